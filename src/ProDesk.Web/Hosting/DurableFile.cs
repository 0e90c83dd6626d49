using Microsoft.Win32.SafeHandles;

namespace ProDesk.Web.Hosting;

/// <summary>
/// Bytes in memory written whole to a file and flushed to disk before the call returns, under their final name only
/// once complete (written beside it, then renamed), so a reader or a crash never sees half a file.
/// </summary>
/// <remarks>
/// Few system calls, as every inbound mail makes one: no existence check or directory creation while the directory
/// is there, one write, one flush, no file lock (nothing else opens a part file), and no thread-pool hop (the flush
/// blocks anyway, and a write to the page cache is shorter than the hop).
/// </remarks>
public static class DurableFile
{
    public static void Write(string target, ReadOnlySpan<byte> content)
    {
        var temporary = $"{target}.{Guid.NewGuid():N}.part";
        try
        {
            using (var handle = CreateNew(temporary))
            {
                RandomAccess.Write(handle, content, fileOffset: 0);
                RandomAccess.FlushToDisk(handle);
            }

            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            // A full disk, an I/O error: half a file is nobody's.
            File.Delete(temporary);
            throw;
        }
    }

    private static SafeFileHandle CreateNew(string path)
    {
        try
        {
            // FileShare.Read: on Unix .NET takes no lock for a handle opened to write unless it is FileShare.None.
            return File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        }
        catch (DirectoryNotFoundException)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        }
    }
}
