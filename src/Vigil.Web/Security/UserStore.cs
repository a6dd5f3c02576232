using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Vigil.Web.Security;

/// <summary>A dashboard or API user.</summary>
internal sealed record WebUser(string Username, string Role);

/// <summary>An API token as the store knows it: its name and role (the token itself is only kept as a hash).</summary>
internal sealed record ApiToken(string Name, string Role);

/// <summary>
/// Users (salted PBKDF2 hashes) and API tokens (SHA-256 hashes; a token is shown once, when created) in SQLite,
/// <c>&lt;data&gt;/web/users.db</c>. Low traffic: one connection behind a lock.
/// </summary>
internal sealed class UserStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;

    public UserStore(string path, TimeProvider time)
    {
        _time = time;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        using var command = _connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode=WAL;
            PRAGMA busy_timeout=5000;
            CREATE TABLE IF NOT EXISTS users(
                username TEXT PRIMARY KEY COLLATE NOCASE, role TEXT NOT NULL, password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS tokens(
                id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
                created_by TEXT NOT NULL, created_at INTEGER NOT NULL);
            """;
        command.ExecuteNonQuery();
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public static string PathUnder(string dataDirectory) => Path.Combine(dataDirectory, "web", "users.db");

    public const string AdminName = "admin";

    public const int MinPasswordLength = 8;

    /// <summary>
    /// Creates the user <c>admin</c> when there are no users yet, with <paramref name="initialPassword"/> or a generated
    /// one. Returns the generated password (to print once), or null when none was generated.
    /// </summary>
    public string? EnsureAdmin(string? initialPassword)
    {
        lock (_gate)
        {
            if (Scalar("SELECT count(*) FROM users") > 0)
            {
                return null;
            }

            var generated = string.IsNullOrEmpty(initialPassword) ? NewSecret(18) : null;
            Insert(AdminName, Roles.Admin, initialPassword is { Length: > 0 } given ? given : generated!);
            return generated;
        }
    }

    /// <summary>Adds a user; false when the name is taken.</summary>
    public bool TryCreate(string username, string password, string role)
    {
        lock (_gate)
        {
            try
            {
                Insert(username, role, password);
                return true;
            }
            catch (SqliteException e) when (e.SqliteErrorCode == 19) // SQLITE_CONSTRAINT: the name is taken
            {
                return false;
            }
        }
    }

    /// <summary>The user when the name and password match; null otherwise, taking as long either way.</summary>
    public WebUser? Verify(string username, string password)
    {
        string? hash = null;
        string? role = null;
        string? name = null;
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT username, role, password_hash FROM users WHERE username = $u";
            command.Parameters.AddWithValue("$u", username);
            using var reader = command.ExecuteReader();
            if (reader.Read())
            {
                (name, role, hash) = (reader.GetString(0), reader.GetString(1), reader.GetString(2));
            }
        }

        var matches = PasswordHasher.Verify(password, hash ?? PasswordHasher.Decoy);
        return matches && name is not null ? new WebUser(name, role!) : null;
    }

    public IReadOnlyList<WebUser> Users()
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT username, role FROM users ORDER BY username";
            using var reader = command.ExecuteReader();
            var users = new List<WebUser>();
            while (reader.Read())
            {
                users.Add(new WebUser(reader.GetString(0), reader.GetString(1)));
            }

            return users;
        }
    }

    /// <summary>The stored hash of a user's password (for tests and audits), or null.</summary>
    public string? PasswordHashOf(string username)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT password_hash FROM users WHERE username = $u";
            command.Parameters.AddWithValue("$u", username);
            return command.ExecuteScalar() as string;
        }
    }

    /// <summary>Creates an API token and returns it; only its SHA-256 hash is stored, so this is the one time it is seen.</summary>
    public string CreateToken(string name, string role, string createdBy)
    {
        var token = "vgl_" + NewSecret(32);
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                INSERT INTO tokens(name, role, token_hash, created_by, created_at) VALUES($name, $role, $hash, $by, $at)
                """;
            command.Parameters.AddWithValue("$name", name);
            command.Parameters.AddWithValue("$role", role);
            command.Parameters.AddWithValue("$hash", TokenHash(token));
            command.Parameters.AddWithValue("$by", createdBy);
            command.Parameters.AddWithValue("$at", _time.GetUtcNow().ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
        }

        return token;
    }

    /// <summary>The token's name and role, or null when it is not a token this store issued.</summary>
    public ApiToken? FindToken(string token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 200)
        {
            return null;
        }

        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT name, role FROM tokens WHERE token_hash = $hash";
            command.Parameters.AddWithValue("$hash", TokenHash(token));
            using var reader = command.ExecuteReader();
            return reader.Read() ? new ApiToken(reader.GetString(0), reader.GetString(1)) : null;
        }
    }

    /// <summary>The stored token hashes (for tests and audits).</summary>
    public IReadOnlyList<string> TokenHashes()
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT token_hash FROM tokens ORDER BY id";
            using var reader = command.ExecuteReader();
            var hashes = new List<string>();
            while (reader.Read())
            {
                hashes.Add(reader.GetString(0));
            }

            return hashes;
        }
    }

    public static string TokenHash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>A random secret, base64url without padding.</summary>
    public static string NewSecret(int bytes) =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private void Insert(string username, string role, string password)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "INSERT INTO users(username, role, password_hash, created_at) VALUES($u, $r, $h, $at)";
        command.Parameters.AddWithValue("$u", username);
        command.Parameters.AddWithValue("$r", role);
        command.Parameters.AddWithValue("$h", PasswordHasher.Hash(password));
        command.Parameters.AddWithValue("$at", _time.GetUtcNow().ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    private long Scalar(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _connection.Dispose();
        }
    }
}
