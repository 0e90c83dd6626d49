using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Hosting;

/// <summary>
/// Every tenant's mail, files and (on SQLite) database are under the data directory: other accounts on the machine
/// read none of it (directories 0700, files 0600), and a directory made under the umask before is tightened at start.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PrivateDataDirectoryTests(ProDeskApp app) : PostgresTest(app)
{
    private const UnixFileMode WorldReadable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    [Fact]
    public async Task A_stored_raw_mail_is_the_owners_only_and_so_are_the_directories_it_is_in()
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(
            "From: Marie <marie@example.fr>\r\nTo: support@acme.test\r\nSubject: Leak\r\nMessage-ID: <private-1@example.fr>\r\n\r\nThe tap drips.\r\n"));
        content.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        content.Headers.Add(EmailInboundApi.KeyHeader, "demo-acme-inbound-key-0123456789");
        Assert.True((await App.CreateClient().PostAsync("/channels/email/acme/inbound", content)).IsSuccessStatusCode);

        var mail = await App.InTenantAsync("acme", db => db.InboundMails.AsNoTracking().SingleAsync());
        var raw = App.Services.GetRequiredService<RawMailStore>().PathOf(mail.TenantId, mail.RawSha256);
        Assert.Equal(PrivateFiles.OwnerOnlyFile, File.GetUnixFileMode(raw));
        var mailFolder = Path.GetDirectoryName(raw)!;
        foreach (var folder in new[] { mailFolder, Path.GetDirectoryName(mailFolder)!, App.Services.GetRequiredService<ProDeskPaths>().BlobDirectory })
        {
            Assert.Equal(PrivateFiles.OwnerOnlyDirectory, File.GetUnixFileMode(folder));
        }
    }

    [Fact]
    public async Task A_fresh_data_directory_is_the_owners_only_and_one_made_world_readable_before_is_tightened_at_start()
    {
        var root = Directory.CreateTempSubdirectory("prodesk-private-").FullName;
        try
        {
            var fresh = Path.Combine(root, "fresh", "data");
            var made = await CliProcess.RunAsync(new Dictionary<string, string?> { ["Database__Provider"] = "Sqlite", ["ProDesk__DataDirectory"] = fresh }, "migrate");
            Assert.True(made.ExitCode == 0, made.StandardError);
            Assert.Equal(PrivateFiles.OwnerOnlyDirectory, File.GetUnixFileMode(fresh));
            Assert.Equal(PrivateFiles.OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(fresh, "prodesk.db")));

            // As an older version left it: made under a 022 umask, with the blobs in it.
            var older = Path.Combine(root, "older");
            Directory.CreateDirectory(older, WorldReadable);
            Directory.CreateDirectory(Path.Combine(older, "blobs"), WorldReadable);
            var started = await CliProcess.RunAsync(new Dictionary<string, string?> { ["Database__Provider"] = "Sqlite", ["ProDesk__DataDirectory"] = older }, "migrate");
            Assert.True(started.ExitCode == 0, started.StandardError);
            Assert.Equal(PrivateFiles.OwnerOnlyDirectory, File.GetUnixFileMode(older));
            Assert.Equal(PrivateFiles.OwnerOnlyDirectory, File.GetUnixFileMode(Path.Combine(older, "blobs")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
