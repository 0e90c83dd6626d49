using System.Net;
using System.Text.Json;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Health;

public sealed class HealthAndProblemsTests(ProDeskApp app) : PostgresTest(app)
{
    [Fact]
    public async Task Live_answers_200_json_while_the_process_is_up()
    {
        var response = await App.CreateClient().GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", json.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_checks_the_database_and_the_job_storage()
    {
        var response = await App.CreateClient().GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var checks = json.RootElement.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("Healthy", checks.GetProperty("job-storage").GetProperty("status").GetString());
        Assert.Equal("PostgreSqlStorage", checks.GetProperty("job-storage").GetProperty("description").GetString());
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task A_probe_is_a_GET_and_another_method_is_told_which_one(string path)
    {
        var client = App.CreateClient();
        var posted = await client.PostAsync(path, new StringContent(""));
        var deleted = await client.DeleteAsync(path);

        Assert.All([posted, deleted], r => Assert.Equal(HttpStatusCode.MethodNotAllowed, r.StatusCode));
        Assert.Contains("GET", posted.Content.Headers.Allow);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path))).StatusCode);
    }

    [Fact]
    public async Task An_unknown_api_route_is_a_problem_details_404()
    {
        var response = await App.CreateClient().GetAsync("/api/v1/tenants/acme/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(404, json.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("/api/v1/tenants/acme/nothing-here", json.RootElement.GetProperty("instance").GetString());
        Assert.True(json.RootElement.TryGetProperty("traceId", out _));
    }
}
