using Vigil.Storage.Postgres;

namespace Vigil.Manager;

/// <summary>What a manager shares with the others on one PostgreSQL: the database, the CA password, its own name there.</summary>
internal sealed record SharedStores(PostgresDatabase Database, string CaPassword, string ManagerName);
