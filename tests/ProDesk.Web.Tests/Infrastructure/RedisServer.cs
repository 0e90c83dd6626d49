namespace ProDesk.Web.Tests.Infrastructure;

/// <summary>The throwaway Redis that tests/run.sh starts on loopback.</summary>
public static class RedisServer
{
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("PRODESK_TEST_REDIS") is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException("PRODESK_TEST_REDIS is not set: run the tests with tests/run.sh, which starts a throwaway Redis on loopback.");
}
