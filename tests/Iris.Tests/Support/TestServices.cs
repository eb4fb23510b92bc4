using Npgsql;

namespace Iris.Tests.Support;

/// <summary>
/// The real Redis, PostgreSQL, RabbitMQ and s3rver that scripts/test.sh starts (scripts/start-test-services.sh) and passes in
/// IRIS_TEST_REDIS, IRIS_TEST_POSTGRES, IRIS_TEST_RABBITMQ and IRIS_TEST_S3. Without them those tests fail with this explanation
/// rather than pass without having run.
/// </summary>
public static class TestServices
{
    public static string Redis => Required("IRIS_TEST_REDIS");
    public static string Postgres => Required("IRIS_TEST_POSTGRES");
    public static string RabbitMq => Required("IRIS_TEST_RABBITMQ");

    /// <summary>The s3rver endpoint (a fake S3 server speaking the S3 HTTP API), e.g. http://127.0.0.1:20005; see <see cref="TestBucket"/>.</summary>
    public static string S3 => Required("IRIS_TEST_S3");

    /// <summary>PGlite with its pgvector extension behind pglite-socket (Debian has no pgvector package), for the pgvector index.</summary>
    public static string PgVector => Required("IRIS_TEST_PGVECTOR");

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{name} is not set. Run the tests through scripts/test.sh, which starts redis-server, PostgreSQL, RabbitMQ, s3rver and PGlite on 127.0.0.1 " +
                "(scripts/start-test-services.sh), or export it yourself.");

    /// <summary>A new, empty PostgreSQL database; dropping it is the caller's job (<see cref="DropDatabaseAsync"/>).</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var name = "iris_test_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(Postgres) { Database = name }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
