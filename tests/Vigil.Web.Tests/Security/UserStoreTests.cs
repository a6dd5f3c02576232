using Vigil.Tests.Common;
using Vigil.Web.Security;

namespace Vigil.Web.Tests.Security;

public sealed class UserStoreTests : IDisposable
{
    private readonly TempDirectory _directory = new("vigil-users");

    public void Dispose() => _directory.Dispose();

    private UserStore Open() => new(UserStore.PathUnder(_directory.Path), TimeProvider.System);

    [Fact]
    public void Passwords_SameForTwoUsers_StoredAsDifferentSaltedHashes()
    {
        using var store = Open();
        Assert.True(store.TryCreate("alice", "same password", Roles.Viewer));
        Assert.True(store.TryCreate("bob", "same password", Roles.Viewer));

        var alice = store.PasswordHashOf("alice")!;
        var bob = store.PasswordHashOf("bob")!;

        Assert.NotEqual(alice, bob);
        Assert.DoesNotContain("same password", alice, StringComparison.Ordinal);
        Assert.StartsWith($"pbkdf2-sha256${PasswordHasher.Iterations}$", alice, StringComparison.Ordinal);
        Assert.True(PasswordHasher.Iterations >= 100_000);
        Assert.Equal(new WebUser("alice", Roles.Viewer), store.Verify("alice", "same password"));
        Assert.Null(store.Verify("alice", "Same password"));
    }

    [Fact]
    public void TryCreate_TakenName_IsFalse()
    {
        using var store = Open();

        Assert.True(store.TryCreate("carol", "password 1", Roles.Admin));
        Assert.False(store.TryCreate("Carol", "password 2", Roles.Viewer));
    }

    [Fact]
    public void Tokens_StoredOnlyAsSha256()
    {
        using var store = Open();

        var token = store.CreateToken("ci", Roles.Viewer, "admin");

        var stored = Assert.Single(store.TokenHashes());
        Assert.NotEqual(token, stored);
        Assert.Equal(UserStore.TokenHash(token), stored);
        Assert.Equal(64, stored.Length);
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(UserStore.PathUnder(_directory.Path))!))
        {
            Assert.DoesNotContain(token, File.ReadAllText(file, System.Text.Encoding.Latin1), StringComparison.Ordinal);
        }

        Assert.Equal(new ApiToken("ci", Roles.Viewer), store.FindToken(token));
        Assert.Null(store.FindToken(token + "x"));
    }

    [Fact]
    public void EnsureAdmin_GeneratesOnceThenKeepsTheUser()
    {
        string? generated;
        using (var store = Open())
        {
            generated = store.EnsureAdmin(null);
        }

        using var reopened = Open();
        Assert.NotNull(generated);
        Assert.True(generated.Length >= 20);
        Assert.Null(reopened.EnsureAdmin(null));
        Assert.Equal(new WebUser("admin", Roles.Admin), reopened.Verify("admin", generated));
    }

    [Fact]
    public void EnsureAdmin_WithGivenPassword_GeneratesNone()
    {
        using var store = Open();

        Assert.Null(store.EnsureAdmin("given password"));
        Assert.NotNull(store.Verify("admin", "given password"));
    }

    [Fact]
    public void UsersDatabase_IsReadableByItsOwnerOnly()
    {
        using var store = Open();
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(UserStore.PathUnder(_directory.Path)));
    }
}
