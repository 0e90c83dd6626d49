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

    /// <summary>
    /// Writes the mail under its hash, flushed to disk. The same bytes already stored are stored again, not checked
    /// for first: the caller found no ledger row for the mail, so they are a rare retry, and the check cost every mail.
    /// </summary>
    public void Write(Guid tenantId, string sha256, byte[] raw) => DurableFile.Write(PathOf(tenantId, sha256), raw);

    /// <summary>
    /// Writes a mail too large to hold in memory straight from <paramref name="input"/> to disk, hashing it on the
    /// way: its SHA-256 (lower-case hex, its name in the store) and its length.
    /// </summary>
    public async Task<(string Sha256, long Length)> WriteAsync(Guid tenantId, Stream input, CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(PathOf(tenantId, "x"))!;
        PrivateFiles.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $"{Guid.NewGuid():N}.part");
        long length;
        string sha256;
        try
        {
            await using (var output = PrivateFiles.Open(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                (length, var hash) = await HashingCopy.ToDiskAsync(input, output, cancellationToken);
                sha256 = Convert.ToHexStringLower(hash);
            }

            File.Move(temporary, PathOf(tenantId, sha256), overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        return (sha256, length);
    }

    public Task<byte[]> ReadAsync(Guid tenantId, string sha256, CancellationToken cancellationToken) =>
        File.ReadAllBytesAsync(PathOf(tenantId, sha256), cancellationToken);
}
