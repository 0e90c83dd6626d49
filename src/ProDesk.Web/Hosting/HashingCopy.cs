using System.Security.Cryptography;

namespace ProDesk.Web.Hosting;

/// <summary>Bytes copied to disk and hashed on the way, so a large file is read once and never held whole in memory.</summary>
public static class HashingCopy
{
    /// <summary>Copies <paramref name="input"/> to <paramref name="output"/>, flushed to disk: how many bytes, and their SHA-256.</summary>
    public static async Task<(long Length, byte[] Sha256)> ToDiskAsync(Stream input, FileStream output, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long length = 0;
        int read;
        while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            length += read;
        }

        // On disk before the transaction that will name it commits.
        output.Flush(flushToDisk: true);
        return (length, hash.GetHashAndReset());
    }
}
