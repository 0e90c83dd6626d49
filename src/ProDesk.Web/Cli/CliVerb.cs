namespace ProDesk.Web.Cli;

/// <summary>
/// A command-line verb of CONTRACT.md: the words before the first option that the host would
/// take (<c>--urls</c>, <c>--environment</c>), and that option tail, which still configures the host.
/// </summary>
public sealed record CliVerb(IReadOnlyList<string> Words, IReadOnlyDictionary<string, string?> Options, string[] HostArgs)
{
    public const string Help = "help";

    /// <summary>Options given more than once: refused, since which one would win is a guess.</summary>
    public IReadOnlyList<string> Repeated { get; private init; } = [];

    public static readonly IReadOnlyList<string> Known = ["migrate", "seed", "tenants", "token", "billing", "mail", "clients", "channels"];

    /// <summary>Null when the arguments start the web host (no verb).</summary>
    public static CliVerb? Parse(string[] args)
    {
        if (args is ["--help" or "-h" or "-?" or Help, ..])
        {
            return new CliVerb([Help], new Dictionary<string, string?>(), []);
        }

        if (args.Length == 0 || args[0].StartsWith('-') || args[0].Contains('='))
        {
            return null;
        }

        var repeated = new List<string>();
        var words = new List<string>();
        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        var hostArgs = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                words.Add(arg);
                continue;
            }

            var name = arg[2..];
            string? value = null;
            if (name.Contains('='))
            {
                value = name[(name.IndexOf('=') + 1)..];
                name = name[..name.IndexOf('=')];
            }
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }

            if (IsHostOption(name))
            {
                hostArgs.Add($"--{name}={value}");
            }
            else if (!options.TryAdd(name, value))
            {
                repeated.Add(name);
            }
        }

        return new CliVerb(words, options, [.. hostArgs]) { Repeated = repeated };
    }

    public string Name => string.Join(' ', Words);

    private static bool IsHostOption(string name) =>
        name is "urls" or "environment" or "contentRoot" || name.Contains(':', StringComparison.Ordinal);
}
