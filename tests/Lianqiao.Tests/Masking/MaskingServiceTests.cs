using System.Globalization;
using Lianqiao.Domain.Masking;
using Lianqiao.Masking;
using Xunit;

namespace Lianqiao.Tests.Masking;

public sealed class MaskingServiceTests
{
    static readonly byte[] Key = "masking-service-test-key"u8.ToArray();

    // Stored dates skip the text round trip; the answer must be the one the text rule gives.
    [Theory]
    [InlineData(MaskingKind.GeneraliseDateToYear)]
    [InlineData(MaskingKind.GeneraliseDateToMonth)]
    public void A_stored_date_is_generalised_exactly_as_its_text_would_be(MaskingKind kind)
    {
        var mask = new ColumnMask("birth_date", new MaskingRule(kind));
        foreach (var date in new[] { new DateOnly(1990, 3, 7), new DateOnly(999, 12, 31), new DateOnly(2005, 1, 1) })
        {
            var expected = Masker.Apply(mask.Rule, date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), Key);
            Assert.Equal(expected, MaskingService.Apply(mask, date, Key));
            Assert.Equal(expected, MaskingService.Apply(mask, date.ToDateTime(new TimeOnly(13, 5)), Key));
        }
    }
}
