using System.Data;
using System.Globalization;
using System.IO.Compression;
using System.Xml;
using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Domain.Masking;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Lianqiao.Reference;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using MiniExcelLibs;

namespace Lianqiao.Catalog;

public sealed record ImportRowError(string Sheet, int Row, string Field, string Zh, string En);
public sealed record ImportedResource(int Row, string RowKey, string Id, string Code, string Name);

/// <summary>What an import did: in "all" mode nothing is committed when any row fails; in "valid" mode the good rows are.</summary>
public sealed record ImportReport(string Mode, bool Committed, int Rows, int Imported, int Failed,
    IReadOnlyList<ImportedResource> Created, IReadOnlyList<ImportRowError> Errors);

/// <summary>One template column: its Chinese header, the <see cref="ResourceInput"/>/<see cref="DataItemInput"/> field it fills, its code table.</summary>
internal sealed record SheetColumn(string Header, string Field, string? Table = null, string Note = "");

/// <summary>The catalog template: a sheet of resources, a sheet of data items linked by a row key, and the code values.</summary>
internal static class CatalogSheets
{
    public const string Resources = "信息资源", Items = "信息项", Codes = "代码表", Guide = "填写说明";
    public const string RowKey = "行键", ItemRowKey = "资源行键", Department = "信息资源提供方";
    public const string DepartmentTable = "department", ItemKindTable = "item-kind";

    public static readonly SheetColumn[] ResourceColumns =
    [
        new(RowKey, "rowKey", Note: "本行的任意唯一标识，信息项表用它关联资源（必填）"),
        new("信息资源名称", "name", Note: "必填"),
        new(Department, "departmentId", DepartmentTable, "部门名称或统一社会信用代码；留空为本部门"),
        new("类", "classCode", CatalogVocabulary.ResourceClass, "1 基础 / 2 主题 / 3 部门，可填代码或名称"),
        new("项", "subjectCode", CatalogVocabulary.Subject, "两位数字，或项的名称（如 人口）"),
        new("目", "catalogCode", Note: "三位数字"),
        new("细目", "detailCode", Note: "0 至 6 位数字，可留空"),
        new("信息资源代码", "code", Note: "分类码/顺序码；留空自动生成"),
        new("资源标识", "slug", Note: "小写字母、数字和连字符；留空自动生成"),
        new("信息资源提供方代码", "providerCode", Note: "留空取部门的统一社会信用代码"),
        new("信息资源摘要", "summary", Note: "必填"),
        new("信息资源格式分类", "formatCategory", CatalogVocabulary.FormatCategory),
        new("信息资源格式类型", "formatType"),
        new("共享类型", "shareType", CatalogVocabulary.ShareType),
        new("共享条件", "shareCondition", Note: "无条件共享以外必填"),
        new("共享方式分类", "shareMethodClass", CatalogVocabulary.ShareMethodClass, "不予共享以外必填"),
        new("共享方式类型", "shareMethodType", CatalogVocabulary.ShareMethodType),
        new("不予共享依据", "notSharedBasis", Note: "不予共享时必填"),
        new("开放类型", "openType", CatalogVocabulary.OpenType),
        new("开放条件", "openCondition", Note: "有条件开放时必填"),
        new("更新周期", "updateCycle", CatalogVocabulary.UpdateCycle),
        new("发布日期", "publishDate", Note: "CCYY-MM-DD，可留空"),
        new("关联资源代码", "relatedCodes", Note: "多个用分号分隔"),
        new("主题标签", "tags", Note: "多个用分号分隔"),
        new("关键字", "keywords", Note: "多个用分号分隔"),
        new("联系方式", "contact"),
        new("所属库", "library", CatalogVocabulary.Library),
        new("数据级别", "classificationLevel", CatalogVocabulary.ClassificationLevel),
    ];

    public static readonly SheetColumn[] ItemColumns =
    [
        new(ItemRowKey, "rowKey", Note: "所属资源在信息资源表中的行键（必填）"),
        new("信息项名称", "name", Note: "必填"),
        new("字段名", "columnName", Note: "ASCII 标识符；留空自动生成"),
        new("数据类型", "dataType", CatalogVocabulary.DataItemType, "C/N/Y/D/T/L/M/G/B/I/F"),
        new("数据长度", "length", Note: "正整数"),
        new("是否必填", "required", Note: "是/否"),
        new("是否主键", "isKey", Note: "是/否"),
        new("代码表", "codeTable", Note: "引用的代码表编码，可留空"),
        new("敏感级别", "sensitivity", CatalogVocabulary.Sensitivity, "L1 至 L4，留空为 L1"),
        new("信息项类别", "kind", ItemKindTable, "决定默认脱敏规则，可留空"),
        new("脱敏规则", "maskingRule", CatalogVocabulary.MaskingRule, "留空按信息项类别取默认"),
        new("保留前N位", "maskKeepFirst"),
        new("保留后M位", "maskKeepLast"),
        new("说明", "description"),
    ];

    public static string HeaderOf(SheetColumn[] columns, string field) => columns.FirstOrDefault(c => c.Field == field)?.Header ?? field;
}

/// <summary>
/// Excel template, import and export of the catalog. Imports go through <see cref="CatalogService.StageCreateAsync"/>, the very
/// checks of the REST API, and commit in one SaveChanges so "all" mode is all or nothing.
/// </summary>
internal sealed class CatalogExcel(LianqiaoDb db, CatalogService catalog, CatalogSearch search, IAuditLog audit)
{
    public const string XlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    /// <summary>Upload cap; a catalog of a few thousand resources is well under it.</summary>
    public const long MaxUploadBytes = 10 * 1024 * 1024;
    const int MaxZipEntries = 200;
    const long MaxEntryBytes = 64L * 1024 * 1024, MaxTotalBytes = 128L * 1024 * 1024;
    const int MaxResourceRows = 5_000, MaxItemRows = 100_000;

    // ---------- template ----------

    public async Task<byte[]> TemplateAsync(Caller caller, CancellationToken ct)
    {
        var tables = await db.Set<CodeTable>().AsNoTracking().ToDictionaryAsync(t => t.Code, t => t.Name, ct);
        var vocab = await CatalogVocabulary.LoadAsync(db, ct);
        var departments = await db.Set<Department>().AsNoTracking().OrderBy(d => d.Name).Select(d => new { d.Id, d.Name, d.Code }).ToListAsync(ct);

        var codes = new List<Dictionary<string, object?>>();
        void Add(string table, string tableName, string code, string label) =>
            codes.Add(new() { ["代码表"] = table, ["代码表名称"] = tableName, ["代码"] = code, ["名称"] = label });
        foreach (var column in CatalogSheets.ResourceColumns.Concat(CatalogSheets.ItemColumns).Where(c => c.Table is not null).DistinctBy(c => c.Table))
        {
            if (column.Table == CatalogSheets.DepartmentTable)
            {
                // Stewards catalog for their own department only; listing it alone keeps the sheet short and accurate.
                foreach (var d in departments.Where(d => caller.IsAdmin || d.Id == caller.DepartmentId)) Add(column.Table, "信息资源提供方", d.Code, d.Name);
            }
            else if (column.Table == CatalogSheets.ItemKindTable)
            {
                foreach (var kind in Enum.GetValues<ItemKind>()) Add(column.Table, "信息项类别", kind.ToString(), KindLabel(kind));
            }
            else
            {
                foreach (var (code, label) in vocab.Entries(column.Table!)) Add(column.Table!, tables.GetValueOrDefault(column.Table!, column.Table!), code, label);
            }
        }
        var guide = CatalogSheets.ResourceColumns.Select(c => (Sheet: CatalogSheets.Resources, Column: c))
            .Concat(CatalogSheets.ItemColumns.Select(c => (Sheet: CatalogSheets.Items, Column: c)))
            .Select(x => new Dictionary<string, object?>
            {
                ["工作表"] = x.Sheet, ["列"] = x.Column.Header,
                ["代码表"] = x.Column.Table ?? "", ["说明"] = x.Column.Note,
            }).ToList();

        using var ms = new MemoryStream();
        await ms.SaveAsAsync(new Dictionary<string, object>
        {
            [CatalogSheets.Resources] = HeaderOnly(CatalogSheets.Resources, CatalogSheets.ResourceColumns),
            [CatalogSheets.Items] = HeaderOnly(CatalogSheets.Items, CatalogSheets.ItemColumns),
            [CatalogSheets.Codes] = codes,
            [CatalogSheets.Guide] = guide,
        }, cancellationToken: ct);
        return ms.ToArray();
    }

    static DataTable HeaderOnly(string name, SheetColumn[] columns)
    {
        // An empty table still writes its header row, unlike an empty list of rows.
        var table = new DataTable(name);
        foreach (var c in columns) table.Columns.Add(c.Header, typeof(string));
        return table;
    }

    static string KindLabel(ItemKind kind) => kind switch
    {
        ItemKind.PersonName => "姓名", ItemKind.IdNumber => "证件号码", ItemKind.Mobile => "手机号码", ItemKind.Landline => "固定电话",
        ItemKind.Address => "地址", ItemKind.Email => "电子邮箱", ItemKind.BankCard => "银行卡号", ItemKind.LicensePlate => "车牌号码",
        ItemKind.BirthDate => "出生日期", ItemKind.Other => "其他", _ => kind.ToString(),
    };

    // ---------- upload checks ----------

    /// <summary>
    /// Copies the upload (multipart file or raw body) to a temp file that deletes itself, then refuses anything that is not a
    /// modest zip before a parser sees it: entry count and declared uncompressed sizes are read from the central directory.
    /// </summary>
    public static async Task<(Stream? File, ProblemHttpResult? Problem)> ReceiveAsync(HttpRequest request, CancellationToken ct)
    {
        Stream source;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(ct);
            var file = form.Files.GetFile("file") ?? form.Files.FirstOrDefault();
            if (file is null || file.Length == 0)
                return (null, Problems.Of(400, "no-file", "未上传文件", "Send the filled template as the multipart field 'file' or as the raw request body."));
            if (file.Length > MaxUploadBytes) return (null, TooLarge());
            source = file.OpenReadStream();
        }
        else
        {
            source = request.Body;
        }

        var temp = new FileStream(Path.Combine(Path.GetTempPath(), "lianqiao-import-" + Guid.NewGuid().ToString("N")), FileMode.CreateNew,
            FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        try
        {
            await using (source)
            {
                var buffer = new byte[1 << 16];
                long total = 0;
                int read;
                while ((read = await source.ReadAsync(buffer, ct)) > 0)
                {
                    total += read;
                    if (total > MaxUploadBytes) { await temp.DisposeAsync(); return (null, TooLarge()); }
                    await temp.WriteAsync(buffer.AsMemory(0, read), ct);
                }
                if (total == 0) { await temp.DisposeAsync(); return (null, Problems.Of(400, "no-file", "未上传文件", "The request body is empty.")); }
            }
            temp.Position = 0;
            if (CheckPackage(temp) is { } problem) { await temp.DisposeAsync(); return (null, problem); }
            temp.Position = 0;
            return (temp, null);
        }
        catch
        {
            await temp.DisposeAsync();
            throw;
        }
    }

    static ProblemHttpResult TooLarge() => Problems.Of(413, "upload-too-large", "上传文件过大",
        $"The workbook is larger than {MaxUploadBytes / (1024 * 1024)} MB.");

    public static ProblemHttpResult? CheckPackage(Stream stream)
    {
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            if (zip.Entries.Count > MaxZipEntries)
                return Problems.Of(413, "xlsx-too-many-entries", "工作簿内部文件过多", $"The workbook holds more than {MaxZipEntries} parts.");
            long total = 0;
            foreach (var entry in zip.Entries)
            {
                total += entry.Length;
                if (entry.Length > MaxEntryBytes || total > MaxTotalBytes)
                    return Problems.Of(413, "xlsx-too-large-uncompressed", "工作簿解压后过大（疑似压缩炸弹）",
                        $"The workbook expands beyond {MaxTotalBytes / (1024 * 1024)} MB (or one part beyond {MaxEntryBytes / (1024 * 1024)} MB); it is refused unparsed.");
            }
            return null;
        }
        catch (InvalidDataException)
        {
            return NotXlsx();
        }
    }

    static ProblemHttpResult NotXlsx() => Problems.Of(400, "invalid-xlsx", "文件不是有效的 XLSX 工作簿", "The upload is not a readable XLSX workbook.");

    // ---------- import ----------

    /// <summary>Receives, checks, imports and audits an upload: the one path of the REST API and the import page.</summary>
    public async Task<(ImportReport? Report, ProblemHttpResult? Problem)> ImportUploadAsync(HttpContext http, bool allOrNothing, CancellationToken ct)
    {
        var mode = allOrNothing ? "all" : "valid";
        var (file, problem) = await ReceiveAsync(http.Request, ct);
        if (problem is null)
        {
            await using (file)
            {
                var (report, invalid) = await ImportAsync(file!, allOrNothing, http.User.Caller(), http, ct);
                if (report is not null)
                {
                    await audit.WriteAsync(AuditEntry.For(http, "catalog.import", "catalog", null,
                        new { report.Mode, report.Rows, report.Imported, report.Failed, report.Committed, codes = report.Created.Select(c => c.Code) },
                        report.Committed || report.Failed == 0 ? AuditOutcome.Success : AuditOutcome.Failure), ct);
                    return (report, null);
                }
                problem = invalid;
            }
        }
        await audit.WriteAsync(AuditEntry.For(http, "catalog.import", "catalog", null,
            new { mode, refused = problem!.ProblemDetails.Extensions["code"] }, AuditOutcome.Failure), ct);
        return (null, problem);
    }

    sealed record ParsedResource(int Row, string RowKey, ResourceInput Input, Dictionary<int, int> ItemRows);

    public async Task<(ImportReport? Report, ProblemHttpResult? Problem)> ImportAsync(Stream file, bool allOrNothing, Caller caller, HttpContext? http, CancellationToken ct)
    {
        var mode = allOrNothing ? "all" : "valid";
        List<IDictionary<string, object?>> resourceRows, itemRows;
        try
        {
            var sheets = MiniExcel.GetSheetNames(file);
            if (!sheets.Contains(CatalogSheets.Resources) || !sheets.Contains(CatalogSheets.Items))
                return (null, Problems.Of(400, "template-sheets-missing", $"工作簿缺少“{CatalogSheets.Resources}”或“{CatalogSheets.Items}”工作表",
                    "The workbook lacks the resource or data-item sheet of the catalog template."));
            file.Position = 0;
            resourceRows = ReadRows(file, CatalogSheets.Resources, MaxResourceRows);
            file.Position = 0;
            itemRows = ReadRows(file, CatalogSheets.Items, MaxItemRows);
        }
        catch (TooManyRowsException e)
        {
            return (null, Problems.Of(413, "too-many-rows", "行数超过上限", $"The sheet {e.Sheet} has more than {e.Limit} rows."));
        }
        catch (Exception e) when (e is InvalidDataException or XmlException or InvalidOperationException or FormatException or ArgumentException)
        {
            return (null, NotXlsx());
        }

        var errors = new List<ImportRowError>();
        void Error(string sheet, int row, string field, string message)
        {
            var cut = message.IndexOf(" / ", StringComparison.Ordinal);
            errors.Add(cut < 0 ? new(sheet, row, field, message, message) : new(sheet, row, field, message[..cut], message[(cut + 3)..]));
        }

        var vocab = await CatalogVocabulary.LoadAsync(db, ct);
        var departments = await db.Set<Department>().AsNoTracking().Select(d => new { d.Id, d.Name, d.Code }).ToListAsync(ct);
        var parsed = new List<ParsedResource>();
        var failedRows = new HashSet<int>();
        var byKey = new Dictionary<string, ParsedResource>(StringComparer.Ordinal);
        var nonEmpty = 0;

        for (var i = 0; i < resourceRows.Count; i++)
        {
            var cells = resourceRows[i];
            var row = i + 2;
            if (cells.Values.All(v => string.IsNullOrWhiteSpace(Cell(v)))) continue;
            nonEmpty++;
            var before = errors.Count;
            string? Get(string header) => cells.TryGetValue(header, out var v) ? Blank(Cell(v)) : null;
            void Bad(string header, string zh, string en) => Error(CatalogSheets.Resources, row, header, $"{zh} / {en}");

            var key = Get(CatalogSheets.RowKey);
            if (key is null) Bad(CatalogSheets.RowKey, "行键必填", "the row key is required");
            else if (byKey.ContainsKey(key)) Bad(CatalogSheets.RowKey, $"行键 {key} 重复", $"row key {key} is used twice");

            Guid? departmentId = caller.DepartmentId;
            if (Get(CatalogSheets.Department) is { } deptText)
            {
                var match = departments.FirstOrDefault(d => d.Name == deptText || d.Code == deptText);
                if (match is null) Bad(CatalogSheets.Department, $"提供方部门“{deptText}”不存在", $"department '{deptText}' does not exist");
                else if (!caller.ActsFor(match.Id, Roles.Steward)) Bad(CatalogSheets.Department, "只能为本部门编目", "stewards catalog their own department's resources");
                else departmentId = match.Id;
            }

            var classCode = CodeOf(vocab, CatalogVocabulary.ResourceClass, Get("类"));
            var input = new ResourceInput
            {
                Name = Get("信息资源名称"),
                DepartmentId = departmentId,
                ClassCode = classCode,
                SubjectCode = SubjectOf(vocab, classCode, Get("项")),
                CatalogCode = Pad(Get("目"), 3),
                DetailCode = Get("细目"),
                Code = Get("信息资源代码"),
                Slug = Get("资源标识"),
                ProviderCode = Get("信息资源提供方代码"),
                Summary = Get("信息资源摘要"),
                FormatCategory = CodeOf(vocab, CatalogVocabulary.FormatCategory, Get("信息资源格式分类")),
                FormatType = Get("信息资源格式类型"),
                ShareType = CodeOf(vocab, CatalogVocabulary.ShareType, Get("共享类型")),
                ShareCondition = Get("共享条件"),
                ShareMethodClass = CodeOf(vocab, CatalogVocabulary.ShareMethodClass, Get("共享方式分类")),
                ShareMethodType = CodeOf(vocab, CatalogVocabulary.ShareMethodType, Get("共享方式类型")),
                NotSharedBasis = Get("不予共享依据"),
                OpenType = CodeOf(vocab, CatalogVocabulary.OpenType, Get("开放类型")),
                OpenCondition = Get("开放条件"),
                UpdateCycle = CodeOf(vocab, CatalogVocabulary.UpdateCycle, Get("更新周期")),
                PublishDate = DateOf(cells.TryGetValue("发布日期", out var pd) ? pd : null, out var dateOk),
                RelatedCodes = ListOf(Get("关联资源代码")),
                Tags = ListOf(Get("主题标签")),
                Keywords = ListOf(Get("关键字")),
                Contact = Get("联系方式"),
                Library = CodeOf(vocab, CatalogVocabulary.Library, Get("所属库")),
                ClassificationLevel = CodeOf(vocab, CatalogVocabulary.ClassificationLevel, Get("数据级别")),
                Items = [],
            };
            if (!dateOk) Bad("发布日期", "发布日期格式应为 CCYY-MM-DD", "publish date must be CCYY-MM-DD");
            var p = new ParsedResource(row, key ?? "", input, []);
            if (key is not null) byKey.TryAdd(key, p);
            parsed.Add(p);
            if (errors.Count > before) failedRows.Add(row);
        }

        for (var i = 0; i < itemRows.Count; i++)
        {
            var cells = itemRows[i];
            var row = i + 2;
            if (cells.Values.All(v => string.IsNullOrWhiteSpace(Cell(v)))) continue;
            string? Get(string header) => cells.TryGetValue(header, out var v) ? Blank(Cell(v)) : null;
            void Bad(string header, string zh, string en) => Error(CatalogSheets.Items, row, header, $"{zh} / {en}");

            var key = Get(CatalogSheets.ItemRowKey);
            if (key is null || !byKey.TryGetValue(key, out var owner))
            {
                Bad(CatalogSheets.ItemRowKey, $"资源行键“{key}”在信息资源表中不存在", $"resource row key '{key}' is not on the resource sheet");
                continue;
            }
            var before = errors.Count;
            var item = new DataItemInput
            {
                Name = Get("信息项名称"),
                ColumnName = Get("字段名"),
                DataType = CodeOf(vocab, CatalogVocabulary.DataItemType, Get("数据类型")),
                Length = IntOf(Get("数据长度"), () => Bad("数据长度", "数据长度应为整数", "length must be a whole number")),
                Required = BoolOf(Get("是否必填"), () => Bad("是否必填", "是否必填应为 是 或 否", "required must be 是 or 否")),
                IsKey = BoolOf(Get("是否主键"), () => Bad("是否主键", "是否主键应为 是 或 否", "isKey must be 是 or 否")),
                CodeTable = Get("代码表"),
                Sensitivity = CodeOf(vocab, CatalogVocabulary.Sensitivity, Get("敏感级别")),
                Kind = KindOf(Get("信息项类别"), () => Bad("信息项类别", "信息项类别不在代码表中", "the item kind is not in the item-kind list")),
                MaskingRule = CodeOf(vocab, CatalogVocabulary.MaskingRule, Get("脱敏规则")),
                MaskKeepFirst = IntOf(Get("保留前N位"), () => Bad("保留前N位", "保留位数应为整数", "kept characters must be a whole number")),
                MaskKeepLast = IntOf(Get("保留后M位"), () => Bad("保留后M位", "保留位数应为整数", "kept characters must be a whole number")),
                Description = Get("说明"),
            };
            owner.ItemRows[owner.Input.Items!.Count] = row;
            owner.Input.Items!.Add(item);
            if (errors.Count > before) failedRows.Add(owner.Row);
        }

        // Identifiers given in the sheet must be unique within it too; the database check only sees saved rows.
        foreach (var group in parsed.Where(p => p.Input.Code is not null).GroupBy(p => p.Input.Code).Where(g => g.Count() > 1))
            foreach (var p in group.Skip(1)) { Error(CatalogSheets.Resources, p.Row, "信息资源代码", "信息资源代码在表内重复 / the code appears twice in the sheet"); failedRows.Add(p.Row); }
        foreach (var group in parsed.Where(p => p.Input.Slug is not null).GroupBy(p => p.Input.Slug).Where(g => g.Count() > 1))
            foreach (var p in group.Skip(1)) { Error(CatalogSheets.Resources, p.Row, "资源标识", "资源标识在表内重复 / the slug appears twice in the sheet"); failedRows.Add(p.Row); }

        var staged = new List<(ParsedResource Row, CatalogResource Resource)>();
        foreach (var p in parsed)
        {
            if (failedRows.Contains(p.Row)) continue;
            if (p.Input.DepartmentId is null)
            {
                Error(CatalogSheets.Resources, p.Row, CatalogSheets.Department, "信息资源提供方必填 / the provider department is required");
                failedRows.Add(p.Row);
                continue;
            }
            var outcome = await catalog.StageCreateAsync(p.Input, caller, ct);
            if (outcome.Ok)
            {
                staged.Add((p, outcome.Value.Resource));
                continue;
            }
            failedRows.Add(p.Row);
            foreach (var (field, messages) in outcome.Errors ?? new Dictionary<string, string[]> { ["departmentId"] = [$"无权导入 / {outcome.Problem?.ProblemDetails.Detail}"] })
                foreach (var message in messages) MapError(p, field, message, Error);
        }

        var commit = staged.Count > 0 && (!allOrNothing || failedRows.Count == 0);
        if (commit) await catalog.SaveStagedAsync(ct);
        else catalog.DiscardStaged();

        var created = commit
            ? staged.Select(s => new ImportedResource(s.Row.Row, s.Row.RowKey, s.Resource.Slug, s.Resource.Code, s.Resource.Name)).ToList()
            : [];
        if (commit)
            await Task.WhenAll(staged.Select(s => catalog.AuditCreatedAsync(http, caller, s.Resource, new { s.Resource.Code, s.Resource.Name, import = true }, ct)));
        var report = new ImportReport(mode, commit, nonEmpty, created.Count, failedRows.Count, created,
            errors.OrderBy(e => e.Sheet == CatalogSheets.Resources ? 0 : 1).ThenBy(e => e.Row).ToList());
        return (report, null);
    }

    static void MapError(ParsedResource p, string field, string message, Action<string, int, string, string> error)
    {
        // Validation keys are JSON paths ("items[2].dataType", "relatedCodes[0]"); the report names sheet, row and Chinese header.
        if (field.StartsWith("items[", StringComparison.Ordinal) && field.IndexOf(']') is var close and > 6
            && int.TryParse(field.AsSpan(6, close - 6), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            var row = p.ItemRows.TryGetValue(index, out var r) ? r : p.Row;
            var sub = close + 2 <= field.Length ? field[(close + 2)..] : "";
            error(CatalogSheets.Items, row, sub.Length == 0 ? CatalogSheets.ItemRowKey : CatalogSheets.HeaderOf(CatalogSheets.ItemColumns, sub), message);
            return;
        }
        var bare = field.IndexOf('[') is var b and > 0 ? field[..b] : field;
        var sheet = bare == "items" ? CatalogSheets.Items : CatalogSheets.Resources;
        error(sheet == CatalogSheets.Items ? CatalogSheets.Resources : sheet, p.Row,
            bare == "items" ? "信息项" : CatalogSheets.HeaderOf(CatalogSheets.ResourceColumns, bare), message);
    }

    sealed class TooManyRowsException(string sheet, int limit) : Exception
    {
        public string Sheet { get; } = sheet;
        public int Limit { get; } = limit;
    }

    static List<IDictionary<string, object?>> ReadRows(Stream file, string sheet, int limit)
    {
        var rows = new List<IDictionary<string, object?>>();
        foreach (IDictionary<string, object?> row in file.Query(useHeaderRow: true, sheetName: sheet))
        {
            if (rows.Count >= limit) throw new TooManyRowsException(sheet, limit);
            // Headers are trimmed so a stray space typed into a header cell still matches.
            rows.Add(row.ToDictionary(kv => kv.Key.Trim(), kv => kv.Value, StringComparer.Ordinal));
        }
        return rows;
    }

    static string? Cell(object? value) => value switch
    {
        null => null,
        string s => s,
        double d when d == Math.Floor(d) && Math.Abs(d) < 1e15 => ((long)d).ToString(CultureInfo.InvariantCulture),
        double d => d.ToString(CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        bool b => b ? "是" : "否",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    /// <summary>A code, or the label a person typed instead of it; anything else passes through for validation to name.</summary>
    static string? CodeOf(CatalogVocabulary vocab, string table, string? value)
    {
        if (value is null || vocab.Contains(table, value)) return value;
        foreach (var (code, label) in vocab.Entries(table))
            if (string.Equals(label, value, StringComparison.OrdinalIgnoreCase)) return code;
        return value;
    }

    /// <summary>项 is two digits under its 类; Excel turns a typed "01" into the number 1, so short numbers are padded back.</summary>
    static string? SubjectOf(CatalogVocabulary vocab, string? classCode, string? value)
    {
        if (value is null) return null;
        if (classCode is { Length: 1 })
            foreach (var (code, label) in vocab.Entries(CatalogVocabulary.Subject))
                if (code.StartsWith(classCode, StringComparison.Ordinal) && label == value) return code[1..];
        return Pad(value, 2);
    }

    static string? Pad(string? value, int width) =>
        value is not null && value.Length < width && value.All(char.IsAsciiDigit) ? value.PadLeft(width, '0') : value;

    static List<string>? ListOf(string? value) =>
        value?.Split([';', '；', ',', '，', '、'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    static DateOnly? DateOf(object? value, out bool ok)
    {
        ok = true;
        switch (value)
        {
            case null: return null;
            case DateTime t: return DateOnly.FromDateTime(t);
            case double d when d is > 0 and < 2_958_466: return DateOnly.FromDateTime(DateTime.FromOADate(d));
        }
        var text = Blank(Cell(value));
        if (text is null) return null;
        if (DateOnly.TryParseExact(text, ["yyyy-MM-dd", "yyyy/M/d", "yyyy-M-d", "yyyyMMdd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) return date;
        ok = false;
        return null;
    }

    static int? IntOf(string? value, Action bad)
    {
        if (value is null) return null;
        if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) return n;
        bad();
        return null;
    }

    static bool? BoolOf(string? value, Action bad)
    {
        switch (value?.ToLowerInvariant())
        {
            case null: return null;
            case "是" or "y" or "yes" or "true" or "1" or "√": return true;
            case "否" or "n" or "no" or "false" or "0": return false;
            default: bad(); return null;
        }
    }

    static ItemKind? KindOf(string? value, Action bad)
    {
        if (value is null) return null;
        if (Enum.TryParse<ItemKind>(value, true, out var kind) && Enum.IsDefined(kind) && !value.All(char.IsAsciiDigit)) return kind;
        foreach (var k in Enum.GetValues<ItemKind>()) if (KindLabel(k) == value) return k;
        bad();
        return null;
    }

    // ---------- exports ----------

    /// <summary>A search result as XLSX rows, streamed from the database; text cells are guarded against formula injection by the writer.</summary>
    public async Task ExportAsync(Stream output, SearchQuery query, Caller caller, CancellationToken ct)
    {
        var vocab = await CatalogVocabulary.LoadAsync(db, ct);
        var departments = await db.Set<Department>().AsNoTracking().ToDictionaryAsync(d => d.Id, d => d.Name, ct);
        string[] headers = ["信息资源代码", "资源标识", "信息资源名称", "信息资源提供方", "信息资源分类", "信息资源摘要", "信息资源格式", "共享类型", "开放类型",
            "更新周期", "敏感级别", "所属库", "状态", "版本", "发布日期", "关键字", "更新时间"];
        var columns = headers.Select(h => new Output.OutputColumn(h, h, h is "版本" ? Output.OutputType.Integer : Output.OutputType.Text)).ToList();
        var rows = CatalogSearch.Sorted(search.Filtered(query, caller), query.Sort).Take(ExportLimit).AsAsyncEnumerable();
        await Output.TabularOutput.WriteAsync(output, Output.OutputFormat.Xlsx, columns, Project(rows), ct);

        async IAsyncEnumerable<object?[]> Project(IAsyncEnumerable<CatalogResource> source)
        {
            await foreach (var r in source)
            {
                yield return
                [
                    r.Code, r.Slug, r.Name, departments.GetValueOrDefault(r.DepartmentId, "?"),
                    CatalogRules.ClassificationCode(r.ClassCode, r.SubjectCode, r.CatalogCode, r.DetailCode), r.Summary,
                    vocab.Label(CatalogVocabulary.FormatCategory, r.FormatCategory) + (r.FormatType.Length > 0 ? " / " + r.FormatType : ""),
                    vocab.Label(CatalogVocabulary.ShareType, r.ShareType), vocab.Label(CatalogVocabulary.OpenType, r.OpenType),
                    vocab.Label(CatalogVocabulary.UpdateCycle, r.UpdateCycle), r.Grade, vocab.Label(CatalogVocabulary.Library, r.Library),
                    StatusLabel(r.Status), (long)r.Version, r.PublishDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    string.Join("；", r.Keywords), r.UpdatedAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                ];
            }
        }
    }

    /// <summary>Large enough for the whole 100k benchmark catalog; a bound nonetheless, because one request holds a connection throughout.</summary>
    public const int ExportLimit = 200_000;

    static string StatusLabel(ResourceStatus s) => s switch
    {
        ResourceStatus.Draft => "草稿", ResourceStatus.Submitted => "待审核", ResourceStatus.Published => "已发布", ResourceStatus.Retired => "已下线", _ => s.ToString(),
    };
}
