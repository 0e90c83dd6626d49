using System.Text.Json;
using ProDesk.Domain.Sla;

namespace ProDesk.Web.Sla;

/// <summary>How a target is named outside: in the API's sla block, the hub's SLA events and the item's trail.</summary>
public static class SlaTargetNames
{
    public static string ApiName(this SlaTarget target) => JsonNamingPolicy.CamelCase.ConvertName(target.ToString());
}
