using System.Runtime.CompilerServices;
using System.Text;

namespace ProDesk.Testing;

internal static class CodePages
{
    /// <summary>
    /// As the app does at start (ChannelsExtensions): MimeKit remembers the charsets it could not find at its first
    /// lookup, so a test that builds a MimeMessage before any host or parser has run would leave GB18030, ISO-2022-JP
    /// and the like unknown to every later test in the process.
    /// </summary>
    [ModuleInitializer]
    internal static void Register() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
}
