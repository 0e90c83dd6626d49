using ProDesk.Web.Hosting;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// Raw mail as received, under blobs/{tenant}/mail/{sha256}.eml, written (and flushed) before the
/// transaction that records it: the ledger row never names bytes that are not on disk. Content-
/// addressed, so the same mail fetched twice is one file.
/// </summary>
public sealed class RawMailStore(ProDeskPaths paths)
{
    public string PathOf(Guid tenantId, string sha256) =>
        Path.Combine(paths.BlobDirectory, tenantId.ToString("N"), "mail", $"{sha256}.eml");

    public async Task WriteAsync(Guid tenantId, string sha256, byte[] raw, CancellationToken cancellationToken)
    {
        var target = PathOf(tenantId, sha256);
        if (File.Exists(target))
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temporary = $"{target}.{Guid.NewGuid():N}.part";
        await using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
        {
            await output.WriteAsync(raw, cancellationToken);
            output.Flush(flushToDisk: true);
        }

        File.Move(temporary, target, overwrite: true);
    }

    public Task<byte[]> ReadAsync(Guid tenantId, string sha256, CancellationToken cancellationToken) =>
        File.ReadAllBytesAsync(PathOf(tenantId, sha256), cancellationToken);
}
