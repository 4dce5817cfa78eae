using System.Net.Http;
using Microsoft.Data.SqlClient;

var connectionString = "Server=tcp:orders.database.windows.net;Database=orders;User Id=orders_svc;Password=⟦password⟧;";
using var connection = new SqlConnection(connectionString);

var client = new HttpClient();
client.DefaultRequestHeaders.Add("X-Api-Key", "⟦hex-api-key⟧");
var correlationId = Guid.Parse("⟦~d2719b3e-6f1a-4c5b-9e8d-0a7f3c2b1e4d⟧");
Console.WriteLine($"started {correlationId}");
