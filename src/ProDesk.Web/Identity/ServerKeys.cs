using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using ProDesk.Data;
using ProDesk.Data.Identity;

namespace ProDesk.Web.Identity;

/// <summary>
/// Gives the OpenIddict server its signing and encryption keys from the database, creating them
/// once (the first node to start wins the insert; the others read its keys). Tokens therefore
/// survive restarts and are accepted by every node.
/// </summary>
internal sealed class ServerKeys(IServiceScopeFactory scopes, IDataProtectionProvider protection, TimeProvider clock) : IConfigureOptions<OpenIddictServerOptions>
{
    private const string Signing = "signing";
    private const string Encryption = "encryption";

    public void Configure(OpenIddictServerOptions options)
    {
        var signing = Load(Signing);
        options.SigningCredentials.Add(new SigningCredentials(signing, SecurityAlgorithms.RsaSha256));
        var encryption = Load(Encryption);
        options.EncryptionCredentials.Add(new EncryptingCredentials(encryption, SecurityAlgorithms.RsaOAEP, SecurityAlgorithms.Aes256CbcHmacSha512));
    }

    private RsaSecurityKey Load(string purpose)
    {
        // Options are built synchronously; this runs once per process, after migrations.
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        var protector = protection.CreateProtector("ProDesk.ServerKeys", purpose);
        var stored = db.ServerKeys.AsNoTracking().SingleOrDefault(k => k.Purpose == purpose);
        if (stored is null)
        {
            using var fresh = RSA.Create(2048);
            db.ServerKeys.Add(new ServerKey { Purpose = purpose, ProtectedPrivateKey = protector.Protect(fresh.ExportPkcs8PrivateKeyPem()), CreatedAt = clock.GetUtcNow().UtcDateTime });
            try
            {
                db.SaveChanges();
            }
            catch (DbUpdateException)
            {
                // Another node created it first: use theirs.
            }

            stored = db.ServerKeys.AsNoTracking().Single(k => k.Purpose == purpose);
        }

        var rsa = RSA.Create();
        rsa.ImportFromPem(protector.Unprotect(stored.ProtectedPrivateKey));
        return new RsaSecurityKey(rsa) { KeyId = $"{purpose}-{stored.CreatedAt:yyyyMMddHHmmss}" };
    }
}
