using Microsoft.Win32.SafeHandles;

namespace ProDesk.Web.Hosting;

/// <summary>
/// Bytes in memory written whole to a file, and flushed to disk with its name before the call returns. For files
/// named by their content (a raw mail under its SHA-256), which a caller records only after this returns.
/// </summary>
/// <remarks>
/// A new file is created under its name and flushed: flushing a file just created also makes its directory entry
/// durable on Linux's ext4 (with or without a journal), XFS and Btrfs, where a rename after the flush would need the
/// directory flushed as well. A crash while it is written leaves part of the file under its name, but nothing records
/// it before the flush returned; writing the same name again (the sender's retry) replaces it whole: written beside
/// it, flushed and renamed over it, so a reader or a writer of the same bytes at the same moment never sees half a
/// file. Few system calls, as every inbound mail makes one: no existence check or directory creation while the
/// directory is there, one write, one flush, no file lock, and no thread-pool hop (the flush blocks anyway, and a
/// write to the page cache is shorter than the hop).
/// </remarks>
public static class DurableFile
{
    public static void Write(string target, ReadOnlySpan<byte> content)
    {
        FileStream file;
        try
        {
            file = CreateNew(target);
        }
        catch (IOException) when (File.Exists(target))
        {
            Replace(target, content);
            return;
        }

        using (file)
        {
            WriteAndFlush(file.SafeFileHandle, content);
        }
    }

    private static void Replace(string target, ReadOnlySpan<byte> content)
    {
        var temporary = $"{target}.{Guid.NewGuid():N}.part";
        try
        {
            using (var file = CreateNew(temporary))
            {
                WriteAndFlush(file.SafeFileHandle, content);
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

    private static void WriteAndFlush(SafeFileHandle handle, ReadOnlySpan<byte> content)
    {
        RandomAccess.Write(handle, content, fileOffset: 0);
        RandomAccess.FlushToDisk(handle);
    }

    private static FileStream CreateNew(string path)
    {
        try
        {
            return OpenNew(path);
        }
        catch (DirectoryNotFoundException)
        {
            PrivateFiles.CreateDirectory(Path.GetDirectoryName(path)!);
            return OpenNew(path);
        }
    }

    // FileShare.Read: on Unix .NET takes no lock for a handle opened to write unless it is FileShare.None. Unbuffered
    // (bufferSize 0): the stream only carries the handle, which is written and flushed directly.
    private static FileStream OpenNew(string path) => PrivateFiles.Open(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
}
