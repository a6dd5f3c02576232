namespace Vigil.Web.Security;

/// <summary>The two roles: a viewer reads everything, an admin also acts (quarantine, agents, users, tokens).</summary>
internal static class Roles
{
    public const string Viewer = "viewer";
    public const string Admin = "admin";

    public static bool IsKnown(string? role) => role is Viewer or Admin;
}

/// <summary>The authorization policies every API endpoint names one of.</summary>
internal static class Policies
{
    public const string Viewer = "viewer";
    public const string Admin = "admin";
}
