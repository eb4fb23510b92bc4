using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Iris.Core.Tokenization;

/// <summary>The model's tokenizer.json uses a component this tokenizer does not implement.</summary>
public sealed class UnsupportedTokenizerException(string message) : Exception(message);

/// <summary>
/// A BPE tokenizer built from a Hugging Face <c>tokenizer.json</c>: the GPT-2 byte-level kind and the CLIP kind
/// (NFC + whitespace collapse + lower-casing, CLIP's split regex, byte-level, <c>&lt;/w&gt;</c> suffix). It follows the
/// Rust <c>tokenizers</c> pipeline step by step (added tokens, normaliser, pre-tokeniser, BPE, post-processor,
/// decoder) so ids and text match what transformers and transformers.js produce for the same files.
/// </summary>
public sealed class BpeTokenizer
{
    // GPT-2's pre-tokenisation pattern, as the ByteLevel pre-tokeniser applies it when use_regex is on.
    private static readonly Regex Gpt2Split = new(
        @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, b)).ToDictionary(p => p.c, p => (byte)p.b);

    private readonly Dictionary<string, int> _vocab;
    private readonly string[] _idToToken;
    private readonly Dictionary<(string, string), int> _mergeRanks;
    private readonly string? _endOfWordSuffix;
    private readonly int? _unkId;
    private readonly List<(string Content, int Id, bool Special)> _addedTokens;
    private readonly HashSet<int> _specialIds;
    private readonly Func<string, string> _normalize;
    private readonly Func<string, IEnumerable<string>> _preTokenize;
    private readonly int[] _prefix;
    private readonly int[] _suffix;
    private readonly Func<IReadOnlyList<string>, string> _decode;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int[]> _cache = new();

    private BpeTokenizer(JsonElement root, bool cleanUpTokenizationSpaces, int? modelMaxLength)
    {
        CleanUpTokenizationSpaces = cleanUpTokenizationSpaces;
        ModelMaxLength = modelMaxLength;
        var model = root.GetProperty("model");
        if (model.TryGetProperty("type", out var type) && type.GetString() != "BPE")
            throw new UnsupportedTokenizerException($"tokenizer model '{type.GetString()}' is not supported (supported: BPE)");
        _vocab = model.GetProperty("vocab").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        _mergeRanks = new();
        var rank = 0;
        foreach (var merge in model.GetProperty("merges").EnumerateArray())
        {
            // Older files store "a b" strings, newer ones ["a", "b"] pairs.
            var pair = merge.ValueKind == JsonValueKind.Array
                ? (merge[0].GetString()!, merge[1].GetString()!)
                : SplitMerge(merge.GetString()!);
            _mergeRanks.TryAdd(pair, rank++);
        }
        _endOfWordSuffix = model.TryGetProperty("end_of_word_suffix", out var eow) && eow.ValueKind == JsonValueKind.String ? eow.GetString() : null;
        if (model.TryGetProperty("continuing_subword_prefix", out var csp) && csp.ValueKind == JsonValueKind.String && csp.GetString()!.Length > 0)
            throw new UnsupportedTokenizerException("BPE with a continuing_subword_prefix is not supported");
        if (model.TryGetProperty("unk_token", out var unk) && unk.ValueKind == JsonValueKind.String && _vocab.TryGetValue(unk.GetString()!, out var unkId))
            _unkId = unkId;

        _addedTokens = [];
        if (root.TryGetProperty("added_tokens", out var added))
            foreach (var t in added.EnumerateArray())
            {
                var content = t.GetProperty("content").GetString()!;
                var id = t.GetProperty("id").GetInt32();
                _addedTokens.Add((content, id, t.TryGetProperty("special", out var s) && s.GetBoolean()));
                _vocab.TryAdd(content, id);
            }
        // Longest first, so "<|endoftext|>" wins over a shorter token that is its prefix.
        _addedTokens.Sort((a, b) => b.Content.Length.CompareTo(a.Content.Length));
        _specialIds = _addedTokens.Where(t => t.Special).Select(t => t.Id).ToHashSet();

        _idToToken = new string[_vocab.Values.Max() + 1];
        foreach (var (token, id) in _vocab) _idToToken[id] = token;

        _normalize = BuildNormalizer(root.TryGetProperty("normalizer", out var n) ? n : default);
        _preTokenize = BuildPreTokenizer(root.TryGetProperty("pre_tokenizer", out var p) ? p : default);
        (_prefix, _suffix) = BuildPostProcessor(root.TryGetProperty("post_processor", out var pp) ? pp : default);
        _decode = BuildDecoder(root.TryGetProperty("decoder", out var d) ? d : default);
    }

    /// <summary>tokenizer_config.json's <c>clean_up_tokenization_spaces</c>: " ." becomes "." and so on when decoding.</summary>
    public bool CleanUpTokenizationSpaces { get; }

    /// <summary>tokenizer_config.json's <c>model_max_length</c>, the truncation length when encoding with truncation.</summary>
    public int? ModelMaxLength { get; }

    public int VocabularySize => _idToToken.Length;

    /// <summary>Loads <c>tokenizer.json</c> and, when present beside it, <c>tokenizer_config.json</c>.</summary>
    public static BpeTokenizer FromDirectory(string directory)
    {
        var configPath = Path.Combine(directory, "tokenizer_config.json");
        var cleanUp = false;
        int? maxLength = null;
        if (File.Exists(configPath))
        {
            using var config = JsonDocument.Parse(File.ReadAllText(configPath));
            if (config.RootElement.TryGetProperty("clean_up_tokenization_spaces", out var c) && c.ValueKind is JsonValueKind.True)
                cleanUp = true;
            // Very large values (1e30) mean "no limit" in transformers.
            if (config.RootElement.TryGetProperty("model_max_length", out var m) && m.ValueKind == JsonValueKind.Number
                && m.TryGetDouble(out var max) && max is > 0 and < 1_000_000)
                maxLength = (int)max;
        }
        return FromJson(File.ReadAllText(Path.Combine(directory, "tokenizer.json")), cleanUp, maxLength);
    }

    public static BpeTokenizer FromJson(string tokenizerJson, bool cleanUpTokenizationSpaces = false, int? modelMaxLength = null)
    {
        using var document = JsonDocument.Parse(tokenizerJson);
        return new BpeTokenizer(document.RootElement, cleanUpTokenizationSpaces, modelMaxLength);
    }

    public int? TokenToId(string token) => _vocab.TryGetValue(token, out var id) ? id : null;

    public string? IdToToken(int id) => id >= 0 && id < _idToToken.Length ? _idToToken[id] : null;

    public bool IsSpecial(int id) => _specialIds.Contains(id);

    /// <summary>
    /// Token ids for <paramref name="text"/>. With <paramref name="addSpecialTokens"/> the post-processor's tokens
    /// (CLIP's start/end) are added. With <paramref name="maxLength"/> the content is cut so that the result, special
    /// tokens included, is at most that long (transformers' truncation=True, longest_first, right side).
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens = true, int? maxLength = null)
    {
        var ids = new List<int>();
        foreach (var (segment, addedId) in SplitOnAddedTokens(text))
        {
            if (addedId is { } id)
            {
                ids.Add(id);
                continue;
            }
            foreach (var word in _preTokenize(_normalize(segment)))
                ids.AddRange(Bpe(word));
        }
        var extra = addSpecialTokens ? _prefix.Length + _suffix.Length : 0;
        if (maxLength is { } max && ids.Count + extra > max)
            ids.RemoveRange(Math.Max(0, max - extra), ids.Count - Math.Max(0, max - extra));
        return addSpecialTokens ? [.. _prefix, .. ids, .. _suffix] : [.. ids];
    }

    /// <summary>Text for <paramref name="ids"/>, as transformers' <c>decode</c> gives it (unknown ids are skipped).</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        // Added tokens are not part of the byte-level alphabet: decode the runs between them separately, as tokenizers does.
        var parts = new StringBuilder();
        var run = new List<string>();
        foreach (var id in ids)
        {
            if (id < 0 || id >= _idToToken.Length || _idToToken[id] is null) continue;
            if (_specialIds.Contains(id) || _addedTokens.Any(t => t.Id == id))
            {
                if (skipSpecialTokens && _specialIds.Contains(id)) continue;
                parts.Append(_decode(run));
                run.Clear();
                parts.Append(_idToToken[id]);
                continue;
            }
            run.Add(_idToToken[id]);
        }
        parts.Append(_decode(run));
        var text = parts.ToString();
        return CleanUpTokenizationSpaces ? CleanUp(text) : text;
    }

    /// <summary>transformers' <c>clean_up_tokenization</c>: removes the spaces a word-level decode leaves before punctuation.</summary>
    public static string CleanUp(string text) => text
        .Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",").Replace(" ' ", "'")
        .Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s").Replace(" 've", "'ve").Replace(" 're", "'re");

    private IEnumerable<(string Segment, int? AddedId)> SplitOnAddedTokens(string text)
    {
        var start = 0;
        var i = 0;
        while (i < text.Length)
        {
            var match = _addedTokens.FirstOrDefault(t => string.CompareOrdinal(text, i, t.Content, 0, t.Content.Length) == 0 && t.Content.Length > 0);
            if (match.Content is null)
            {
                i++;
                continue;
            }
            if (i > start) yield return (text[start..i], null);
            yield return (match.Content, match.Id);
            i += match.Content.Length;
            start = i;
        }
        if (start < text.Length) yield return (text[start..], null);
    }

    private int[] Bpe(string word)
    {
        if (_cache.TryGetValue(word, out var cached)) return cached;
        var symbols = new List<string>(word.Length);
        // The alphabet is single chars (bytes mapped to chars for byte-level), never grapheme clusters.
        foreach (var c in word) symbols.Add(c.ToString());
        if (_endOfWordSuffix is not null && symbols.Count > 0)
            symbols[^1] += _endOfWordSuffix;

        // GPT-2's loop: merge the lowest-ranked adjacent pair everywhere it occurs, left to right, until none is in the table.
        while (symbols.Count > 1)
        {
            var best = int.MaxValue;
            (string, string) bestPair = default;
            for (var i = 0; i < symbols.Count - 1; i++)
                if (_mergeRanks.TryGetValue((symbols[i], symbols[i + 1]), out var r) && r < best)
                {
                    best = r;
                    bestPair = (symbols[i], symbols[i + 1]);
                }
            if (best == int.MaxValue) break;
            var merged = new List<string>(symbols.Count);
            for (var i = 0; i < symbols.Count; i++)
            {
                if (i < symbols.Count - 1 && symbols[i] == bestPair.Item1 && symbols[i + 1] == bestPair.Item2)
                {
                    merged.Add(bestPair.Item1 + bestPair.Item2);
                    i++;
                }
                else merged.Add(symbols[i]);
            }
            symbols = merged;
        }

        var ids = new List<int>(symbols.Count);
        foreach (var symbol in symbols)
        {
            if (_vocab.TryGetValue(symbol, out var id)) ids.Add(id);
            else if (_unkId is { } unk) ids.Add(unk);
            // Without an unk token, tokenizers drops symbols that are not in the vocabulary.
        }
        var result = ids.ToArray();
        if (_cache.Count < 50_000) _cache[word] = result;
        return result;
    }

    private static (string, string) SplitMerge(string merge)
    {
        var space = merge.IndexOf(' ', 1);
        return (merge[..space], merge[(space + 1)..]);
    }

    private static Func<string, string> BuildNormalizer(JsonElement spec)
    {
        if (spec.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return s => s;
        return spec.GetProperty("type").GetString() switch
        {
            "Sequence" => spec.GetProperty("normalizers").EnumerateArray().Select(BuildNormalizer)
                .Aggregate((Func<string, string>)(s => s), (f, g) => s => g(f(s))),
            "NFC" => s => s.Normalize(NormalizationForm.FormC),
            "NFD" => s => s.Normalize(NormalizationForm.FormD),
            "NFKC" => s => s.Normalize(NormalizationForm.FormKC),
            "NFKD" => s => s.Normalize(NormalizationForm.FormKD),
            "Lowercase" => s => s.ToLowerInvariant(),
            "Strip" => s => s.Trim(),
            "Replace" => BuildReplace(spec),
            var other => throw new UnsupportedTokenizerException($"normalizer '{other}' is not supported"),
        };
    }

    private static Func<string, string> BuildReplace(JsonElement spec)
    {
        var content = spec.GetProperty("content").GetString()!;
        var pattern = spec.GetProperty("pattern");
        if (pattern.TryGetProperty("Regex", out var regex))
        {
            var compiled = new Regex(regex.GetString()!, RegexOptions.CultureInvariant);
            return s => compiled.Replace(s, content.Replace("$", "$$"));
        }
        var literal = pattern.GetProperty("String").GetString()!;
        return s => s.Replace(literal, content);
    }

    private static Func<string, IEnumerable<string>> BuildPreTokenizer(JsonElement spec)
    {
        if (spec.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return s => [s];
        switch (spec.GetProperty("type").GetString())
        {
            case "Sequence":
                var steps = spec.GetProperty("pretokenizers").EnumerateArray().Select(BuildPreTokenizer).ToList();
                return s => steps.Aggregate((IEnumerable<string>)[s], (pieces, step) => pieces.SelectMany(step));
            case "ByteLevel":
                var addPrefixSpace = spec.TryGetProperty("add_prefix_space", out var aps) && aps.GetBoolean();
                var useRegex = !spec.TryGetProperty("use_regex", out var ur) || ur.GetBoolean();
                return s =>
                {
                    if (addPrefixSpace && s.Length > 0 && !s.StartsWith(' ')) s = " " + s;
                    var pieces = useRegex ? Gpt2Split.Matches(s).Select(m => m.Value) : [s];
                    return pieces.Select(ToByteLevel);
                };
            case "Split":
                var pattern = spec.GetProperty("pattern");
                var regex = pattern.TryGetProperty("Regex", out var r)
                    ? new Regex(r.GetString()!, RegexOptions.CultureInvariant)
                    : new Regex(Regex.Escape(pattern.GetProperty("String").GetString()!), RegexOptions.CultureInvariant);
                var behaviour = spec.GetProperty("behavior").GetString();
                var invert = spec.TryGetProperty("invert", out var inv) && inv.GetBoolean();
                return (behaviour, invert) switch
                {
                    // Inverted "Removed": the matches are the pieces, everything between them is dropped (CLIP).
                    ("Removed", true) => s => regex.Matches(s).Select(m => m.Value),
                    ("Removed", false) => s => regex.Split(s).Where(p => p.Length > 0),
                    ("Isolated", false) => s => SplitIsolated(regex, s),
                    _ => throw new UnsupportedTokenizerException($"Split pre-tokenizer with behavior '{behaviour}' and invert={invert} is not supported"),
                };
            case "Whitespace":
                var words = new Regex(@"\w+|[^\w\s]+", RegexOptions.CultureInvariant);
                return s => words.Matches(s).Select(m => m.Value);
            case "WhitespaceSplit":
                return s => s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            case var other:
                throw new UnsupportedTokenizerException($"pre-tokenizer '{other}' is not supported");
        }
    }

    private static IEnumerable<string> SplitIsolated(Regex regex, string s)
    {
        var last = 0;
        foreach (Match m in regex.Matches(s))
        {
            if (m.Index > last) yield return s[last..m.Index];
            if (m.Length > 0) yield return m.Value;
            last = m.Index + m.Length;
        }
        if (last < s.Length) yield return s[last..];
    }

    private (int[] Prefix, int[] Suffix) BuildPostProcessor(JsonElement spec)
    {
        if (spec.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return ([], []);
        switch (spec.GetProperty("type").GetString())
        {
            case "ByteLevel":
                return ([], []);
            case "RobertaProcessing" or "BertProcessing":
                return ([spec.GetProperty("cls")[1].GetInt32()], [spec.GetProperty("sep")[1].GetInt32()]);
            case "TemplateProcessing":
                var prefix = new List<int>();
                var suffix = new List<int>();
                var seenSequence = false;
                foreach (var piece in spec.GetProperty("single").EnumerateArray())
                {
                    if (piece.TryGetProperty("Sequence", out _)) { seenSequence = true; continue; }
                    var tokenName = piece.GetProperty("SpecialToken").GetProperty("id").GetString()!;
                    var ids = spec.GetProperty("special_tokens").GetProperty(tokenName).GetProperty("ids").EnumerateArray().Select(e => e.GetInt32());
                    (seenSequence ? suffix : prefix).AddRange(ids);
                }
                return ([.. prefix], [.. suffix]);
            case "Sequence":
                var all = spec.GetProperty("processors").EnumerateArray().Select(BuildPostProcessor).ToList();
                return ([.. all.SelectMany(a => a.Prefix)], [.. all.SelectMany(a => a.Suffix)]);
            case var other:
                throw new UnsupportedTokenizerException($"post-processor '{other}' is not supported");
        }
    }

    private static Func<IReadOnlyList<string>, string> BuildDecoder(JsonElement spec)
    {
        if (spec.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return tokens => string.Concat(tokens);
        switch (spec.GetProperty("type").GetString())
        {
            case "ByteLevel":
                return FromByteLevel;
            case "BPEDecoder":
                var suffix = spec.TryGetProperty("suffix", out var s) ? s.GetString()! : "</w>";
                return tokens => string.Concat(tokens.Select((t, i) => t.Replace(suffix, i == tokens.Count - 1 ? "" : " ")));
            case var other:
                throw new UnsupportedTokenizerException($"decoder '{other}' is not supported");
        }
    }

    /// <summary>GPT-2's reversible mapping of the 256 byte values onto printable characters.</summary>
    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToHashSet();
        var next = 0;
        for (var b = 0; b < 256; b++)
            map[b] = printable.Contains(b) ? (char)b : (char)(256 + next++);
        return map;
    }

    internal static string ToByteLevel(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    private static string FromByteLevel(IReadOnlyList<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (var token in tokens)
            foreach (var c in token)
            {
                if (CharToByte.TryGetValue(c, out var b)) bytes.Add(b);
                else bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        // Invalid UTF-8 (a multi-byte character cut by max_new_tokens) becomes U+FFFD, as Python's errors="replace".
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
