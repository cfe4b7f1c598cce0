using Lianqiao.Domain.Search;

namespace Lianqiao.Domain.Tests.Search;

public class CjkTokenizerTests
{
    [Fact]
    public void Han_run_becomes_overlapping_bigrams() =>
        Assert.Equal(["人口", "口基", "基础", "础信", "信息"], CjkTokenizer.Tokenize("人口基础信息"));

    [Fact]
    public void Latin_words_and_digit_runs_are_whole_lower_cased_tokens() =>
        Assert.Equal(["公交", "gps", "数据", "2024"], CjkTokenizer.Tokenize("公交GPS数据2024"));

    [Fact]
    public void Full_width_letters_and_digits_match_ascii() =>
        Assert.Equal(["gps", "2024"], CjkTokenizer.Tokenize("ＧＰＳ　２０２４"));

    [Fact]
    public void Single_han_character_between_separators_is_its_own_token() =>
        Assert.Equal(["市", "data", "公开"], CjkTokenizer.Tokenize("市 / Data：公开"));

    [Fact]
    public void Extension_b_characters_form_bigrams_as_one_character_each() =>
        Assert.Equal(["𠀋𠀌", "𠀌村"], CjkTokenizer.Tokenize("𠀋𠀌村"));

    [Fact]
    public void Punctuation_splits_han_runs() =>
        Assert.Equal(["社会", "会信", "信用", "代码"], CjkTokenizer.Tokenize("社会信用，代码"));

    [Fact]
    public void Accented_latin_words_stay_whole() =>
        Assert.Equal(["café", "数据"], CjkTokenizer.Tokenize("Café数据"));

    [Fact]
    public void Query_tokens_are_distinct_bigrams() =>
        Assert.Equal(["数据", "据数"], CjkTokenizer.TokenizeQuery("数据数据"));

    [Fact]
    public void Single_han_character_query_yields_that_character() =>
        Assert.Equal(["人"], CjkTokenizer.TokenizeQuery("人"));

    [Fact]
    public void Every_query_token_of_a_substring_is_in_the_index()
    {
        var index = CjkTokenizer.Tokenize("2024年人口基础信息（GPS）").ToHashSet();

        Assert.All(CjkTokenizer.TokenizeQuery("基础信息 gps"), t => Assert.Contains(t, index));
    }

    [Fact]
    public void Index_text_joins_tokens_with_spaces() =>
        Assert.Equal("公交 gps 数据 2024", CjkTokenizer.ToIndexText("公交GPS数据2024"));

    [Fact]
    public void Empty_or_separator_only_text_has_no_tokens()
    {
        Assert.Empty(CjkTokenizer.Tokenize(""));
        Assert.Empty(CjkTokenizer.Tokenize(" ，。- "));
    }
}
