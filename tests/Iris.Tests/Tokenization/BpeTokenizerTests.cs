using Iris.Core.Tokenization;
using Iris.Tests.Support;

namespace Iris.Tests.Tokenization;

public sealed class BpeTokenizerTests
{
    private static readonly BpeTokenizer Gpt2 = BpeTokenizer.FromDirectory(FlowerReference.MirrorFolder("flower-captioner-tiny"));
    private static readonly BpeTokenizer Clip = BpeTokenizer.FromDirectory(FlowerReference.MirrorFolder("clip-tiny"));

    [Fact]
    public void Byte_level_encoding_of_every_reference_caption_gives_the_generated_ids()
    {
        foreach (var image in FlowerReference.Images)
        {
            var ids = FlowerReference.Trim(image.Greedy.Ids, 0);
            Assert.Equal(ids[1..^1], Gpt2.Encode(image.Greedy.Text));
        }
    }

    [Fact]
    public void Decode_skips_special_tokens_only_when_asked()
    {
        int[] ids = [0, .. Gpt2.Encode("a red flower."), 0];
        Assert.Equal("a red flower.", Gpt2.Decode(ids));
        Assert.Equal("<|endoftext|>a red flower.<|endoftext|>", Gpt2.Decode(ids, skipSpecialTokens: false));
    }

    [Fact]
    public void Special_tokens_written_in_the_text_encode_as_themselves()
    {
        var ids = Gpt2.Encode("red<|endoftext|>blue");
        Assert.Equal([.. Gpt2.Encode("red"), 0, .. Gpt2.Encode("blue")], ids);
    }

    [Theory]
    [InlineData("café ☃ 日本")]
    [InlineData("  two  spaces\tand\nnewline ")]
    [InlineData("it's 100% 'quoted'")]
    [InlineData("")]
    public void Byte_level_round_trip_is_lossless_for_any_unicode(string text)
    {
        Assert.Equal(text, Gpt2.Decode(Gpt2.Encode(text)));
    }

    [Fact]
    public void A_multibyte_character_cut_in_half_decodes_to_the_replacement_character()
    {
        var ids = Gpt2.Encode("☃");
        Assert.True(ids.Length >= 2, "a 3-byte character needs more than one token in this small vocabulary");
        Assert.Equal("\uFFFD", Gpt2.Decode(ids[..1]).Distinct().Single().ToString());
    }

    [Fact]
    public void Unknown_ids_are_ignored_when_decoding()
    {
        Assert.Equal(Gpt2.Decode(Gpt2.Encode("red")), Gpt2.Decode([-1, .. Gpt2.Encode("red"), 100_000]));
    }

    [Fact]
    public void Clip_adds_start_and_end_tokens_lower_cases_and_collapses_whitespace()
    {
        Assert.Equal([0, 322, 276, 1], Clip.Encode("red flower"));
        Assert.Equal([0, 322, 276, 1], Clip.Encode("  RED \t\n Flower  "));
        Assert.Equal([0, 1], Clip.Encode(""));
        Assert.Equal([322, 276], Clip.Encode("red flower", addSpecialTokens: false));
    }

    [Fact]
    public void Clip_splits_punctuation_and_digits_from_words()
    {
        var spaced = Clip.Encode("red , flower !");
        Assert.Equal(spaced, Clip.Encode("red,flower!"));
        Assert.Equal(Clip.Encode("7 petals"), Clip.Encode("7petals"));
    }

    [Fact]
    public void Clip_reference_queries_encode_to_the_reference_ids()
    {
        foreach (var query in FlowerReference.Queries)
            Assert.Equal(query.InputIds, Clip.Encode(query.Text));
    }

    [Fact]
    public void Truncation_keeps_start_and_end_tokens_within_max_length()
    {
        var ids = Clip.Encode(string.Join(' ', Enumerable.Repeat("flower", 50)), maxLength: 8);
        Assert.Equal(8, ids.Length);
        Assert.Equal(0, ids[0]);
        Assert.Equal(1, ids[^1]);
        Assert.Equal(32, Clip.ModelMaxLength);
    }

    [Theory]
    [InlineData("a flower .", "a flower.")]
    [InlineData("it 's red , is n't it ?", "it's red, isn't it?")]
    public void Clean_up_removes_spaces_before_punctuation_like_transformers(string raw, string cleaned) =>
        Assert.Equal(cleaned, BpeTokenizer.CleanUp(raw));

    [Fact]
    public void Unsupported_tokenizer_models_are_refused_with_the_reason()
    {
        var error = Assert.Throws<UnsupportedTokenizerException>(() => BpeTokenizer.FromJson("""{"model":{"type":"WordPiece","vocab":{}}}"""));
        Assert.Contains("WordPiece", error.Message);
    }
}
