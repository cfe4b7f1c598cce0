using System.Globalization;
using System.Text;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Seeding;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Datasets.Files;

/// <summary>
/// Gives the demo catalog's first 电子文件 resource (an 电子证照 template where there is one) a small PDF
/// attachment, so the file endpoints and pages have something to list and download.
/// </summary>
internal sealed class FilesDemoSeed : ISeedStep
{
    public string Id => "p3-datasets/002-demo-file-attachment";
    public bool DemoOnly => true;

    public async Task ApplyAsync(SeedContext context, CancellationToken cancellationToken)
    {
        var db = context.Services.GetRequiredService<LianqiaoDb>();
        var candidates = await db.Set<CatalogResource>().AsNoTracking()
            .Where(r => r.RevisionOf == null && r.Status == ResourceStatus.Published && r.FormatCategory == "1")
            .Select(r => new { r.Slug, r.Name, r.Code }).ToListAsync(cancellationToken);
        var target = candidates.OrderByDescending(r => r.Name.Contains("证照", StringComparison.Ordinal)).ThenBy(r => r.Code, StringComparer.Ordinal).FirstOrDefault();
        if (target is null) return;
        var files = context.Services.GetRequiredService<FileResources>();
        var resource = await files.FindAsync(target.Slug, cancellationToken);
        if (resource is null) return;
        using var content = new MemoryStream(MinimalPdf($"Lianqiao demo attachment: {target.Code}"));
        await files.AddVersionAsync(resource, content, $"{target.Name}-样例.pdf", "application/pdf", "seed", "演示数据 / demo seed", cancellationToken);
    }

    /// <summary>A one-page PDF showing one line of ASCII text, with a correct cross-reference table.</summary>
    internal static byte[] MinimalPdf(string text)
    {
        var escaped = text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("(", "\\(", StringComparison.Ordinal).Replace(")", "\\)", StringComparison.Ordinal);
        var stream = $"BT /F1 14 Tf 72 720 Td ({escaped}) Tj ET";
        string[] objects =
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            $"<< /Length {stream.Length} >>\nstream\n{stream}\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ];
        var pdf = new StringBuilder("%PDF-1.4\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Length; i++)
        {
            offsets.Add(pdf.Length);
            pdf.Append(CultureInfo.InvariantCulture, $"{i + 1} 0 obj\n{objects[i]}\nendobj\n");
        }
        var xref = pdf.Length;
        pdf.Append(CultureInfo.InvariantCulture, $"xref\n0 {objects.Length + 1}\n0000000000 65535 f \n");
        foreach (var o in offsets) pdf.Append(CultureInfo.InvariantCulture, $"{o:D10} 00000 n \n");
        pdf.Append(CultureInfo.InvariantCulture, $"trailer\n<< /Size {objects.Length + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        // ASCII only, so character offsets are byte offsets.
        return Encoding.ASCII.GetBytes(pdf.ToString());
    }
}
