using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Iris.Core.Inference.Graphs;

/// <summary>
/// An ONNX model file (a protobuf <c>ModelProto</c>) read down to what graph surgery needs: each node's inputs,
/// outputs and operator, and the names of the graph's initializers, inputs, outputs and value infos. Everything else
/// (weights, attributes, opsets, metadata) stays the original bytes and is written back unchanged, so a rewritten
/// graph keeps every detail of the exported one without a full ONNX object model.
/// </summary>
public sealed class OnnxModelFile
{
    // Field numbers from onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto).
    private const int ModelGraph = 7;
    private const int GraphNode = 1, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12, GraphValueInfo = 13, GraphSparseInitializer = 15;
    private const int NodeInput = 1, NodeOutput = 2, NodeOpType = 4, NodeAttribute = 5, NodeDomain = 7;
    private const int AttributeName = 1, AttributeGraph = 6, AttributeGraphs = 11;
    private const int TensorName = 8, TensorDataLocation = 14;
    private const int ValueInfoName = 1;

    private readonly List<ReadOnlyMemory<byte>> _modelFields;
    private readonly OnnxGraph _graph;

    private OnnxModelFile(List<ReadOnlyMemory<byte>> modelFields, OnnxGraph graph)
    {
        _modelFields = modelFields;
        _graph = graph;
    }

    /// <summary>The graph's nodes, in the file's (topological) order.</summary>
    public IReadOnlyList<OnnxNode> Nodes => _graph.Nodes;
    public IReadOnlyList<OnnxNamed> Initializers => _graph.Initializers;
    public IReadOnlyList<OnnxNamed> Inputs => _graph.Inputs;
    public IReadOnlyList<OnnxNamed> Outputs => _graph.Outputs;
    public IReadOnlyList<OnnxNamed> ValueInfos => _graph.ValueInfos;
    public bool HasSparseInitializers => _graph.HasSparseInitializers;

    /// <summary>Parses <paramref name="model"/>, or says why it cannot be read.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> model, [NotNullWhen(true)] out OnnxModelFile? file, out string reason)
    {
        try
        {
            file = Parse(model);
            reason = "";
            return true;
        }
        catch (InvalidDataException e)
        {
            file = null;
            reason = $"the file is not a readable ONNX model ({e.Message})";
            return false;
        }
    }

    /// <exception cref="InvalidDataException">The bytes are not a protobuf ModelProto with a graph.</exception>
    public static OnnxModelFile Parse(ReadOnlyMemory<byte> model)
    {
        var modelFields = new List<ReadOnlyMemory<byte>>();
        ReadOnlyMemory<byte>? graph = null;
        foreach (var field in ProtoFields(model))
        {
            if (field.Number == ModelGraph && field.WireType == WireLengthDelimited) graph = field.Payload;
            else modelFields.Add(field.Whole);
        }
        if (graph is null) throw new InvalidDataException("The ONNX model has no graph.");

        var parts = ReadGraph(graph.Value);
        return new OnnxModelFile(modelFields, parts);
    }

    /// <summary>A subgraph (an If branch, a Loop body) read like the model's graph.</summary>
    public static OnnxGraph ParseGraph(OnnxSubgraph subgraph) => ReadGraph(subgraph.Graph);

    private static OnnxGraph ReadGraph(ReadOnlyMemory<byte> graph)
    {
        var graphFields = new List<ReadOnlyMemory<byte>>();
        var nodes = new List<OnnxNode>();
        List<OnnxNamed> initializers = [], inputs = [], outputs = [], valueInfos = [];
        var sparse = false;
        foreach (var field in ProtoFields(graph))
        {
            switch (field.Number)
            {
                case GraphNode: nodes.Add(ReadNode(field)); break;
                case GraphInitializer: initializers.Add(ReadTensorName(field)); break;
                case GraphInput: inputs.Add(ReadValueInfoName(field)); break;
                case GraphOutput: outputs.Add(ReadValueInfoName(field)); break;
                case GraphValueInfo: valueInfos.Add(ReadValueInfoName(field)); break;
                case GraphSparseInitializer: sparse = true; graphFields.Add(field.Whole); break;
                default: graphFields.Add(field.Whole); break;
            }
        }
        return new OnnxGraph(nodes, initializers, inputs, outputs, valueInfos, sparse, graphFields);
    }

    /// <summary>
    /// A model with the same opsets, metadata and graph attributes as this one, but the given nodes, initializers,
    /// inputs, outputs and value infos: entries of this model are copied as they are, new ones written from scratch.
    /// </summary>
    public byte[] Write(IEnumerable<OnnxNode> nodes, IEnumerable<OnnxNamed> initializers, IEnumerable<OnnxNamed> inputs,
        IEnumerable<OnnxNamed> outputs, IEnumerable<OnnxNamed> valueInfos)
    {
        var graph = new ArrayBufferWriter<byte>();
        // The graph's other fields (name, doc string, sparse initializers) as they were.
        foreach (var field in _graph.OtherFields) graph.Write(field.Span);
        foreach (var node in nodes) graph.Write(node.Field.Span);
        foreach (var tensor in initializers) graph.Write(tensor.Field.Span);
        foreach (var input in inputs) graph.Write(input.Field.Span);
        foreach (var output in outputs) graph.Write(output.Field.Span);
        foreach (var info in valueInfos) graph.Write(info.Field.Span);

        var model = new ArrayBufferWriter<byte>(graph.WrittenCount + _modelFields.Sum(f => f.Length) + 16);
        foreach (var field in _modelFields) model.Write(field.Span);
        WriteLengthDelimited(model, ModelGraph, graph.WrittenSpan);
        return model.WrittenSpan.ToArray();
    }

    /// <summary>
    /// A graph input or output: a <c>ValueInfoProto</c> with a tensor type of the given ONNX element type
    /// (the values of ONNX Runtime's <c>TensorElementType</c> are ONNX's) and shape, where a dimension of -1 is symbolic.
    /// </summary>
    public static OnnxNamed TensorValueInfo(string name, int elementType, IReadOnlyList<long> dimensions, IReadOnlyList<string?> symbolicNames)
    {
        // TypeProto.tensor_type (1) { elem_type (1), shape (2) { dim (1) { dim_value (1) | dim_param (2) } } }
        var shape = new ArrayBufferWriter<byte>();
        for (var i = 0; i < dimensions.Count; i++)
        {
            var dim = new ArrayBufferWriter<byte>();
            if (dimensions[i] >= 0) WriteVarintField(dim, 1, (ulong)dimensions[i]);
            else WriteLengthDelimited(dim, 2, Encoding.UTF8.GetBytes(string.IsNullOrEmpty(symbolicNames[i]) ? $"{name}_dim{i}" : symbolicNames[i]!));
            WriteLengthDelimited(shape, 1, dim.WrittenSpan);
        }
        var tensorType = new ArrayBufferWriter<byte>();
        WriteVarintField(tensorType, 1, (ulong)elementType);
        WriteLengthDelimited(tensorType, 2, shape.WrittenSpan);
        var type = new ArrayBufferWriter<byte>();
        WriteLengthDelimited(type, 1, tensorType.WrittenSpan);
        var info = new ArrayBufferWriter<byte>();
        WriteLengthDelimited(info, ValueInfoName, Encoding.UTF8.GetBytes(name));
        WriteLengthDelimited(info, 2, type.WrittenSpan);
        return NamedField(GraphInput, name, info.WrittenSpan);
    }

    /// <summary>
    /// The element type and shape of a tensor value info (a graph input or output), a dimension of -1 being symbolic
    /// with its name; null when the entry is not a tensor or has no shape.
    /// </summary>
    public static (int ElementType, long[] Dimensions, string?[] SymbolicNames)? TensorShape(OnnxNamed info)
    {
        // ValueInfoProto.type (2) → TypeProto.tensor_type (1) → elem_type (1), shape (2) → dim (1) → dim_value (1) | dim_param (2)
        var payload = ProtoFields(info.Field).Single().Payload;
        var type = ProtoFields(payload).FirstOrDefault(f => f.Number == 2 && f.WireType == WireLengthDelimited);
        var tensor = ProtoFields(type.Payload).FirstOrDefault(f => f.Number == 1 && f.WireType == WireLengthDelimited);
        if (tensor.Whole.IsEmpty) return null;
        var elementType = 0;
        ReadOnlyMemory<byte>? shape = null;
        foreach (var f in ProtoFields(tensor.Payload))
        {
            if (f.Number == 1 && f.WireType == WireVarint) elementType = (int)f.Varint;
            else if (f.Number == 2 && f.WireType == WireLengthDelimited) shape = f.Payload;
        }
        if (shape is null) return null;
        List<long> dimensions = [];
        List<string?> names = [];
        foreach (var dim in ProtoFields(shape.Value).Where(f => f.Number == 1))
        {
            long value = -1;
            string? name = null;
            foreach (var d in ProtoFields(dim.Payload))
            {
                if (d.Number == 1 && d.WireType == WireVarint) value = (long)d.Varint;
                else if (d.Number == 2 && d.WireType == WireLengthDelimited) name = Text(d);
            }
            dimensions.Add(value);
            names.Add(name);
        }
        return (elementType, dimensions.ToArray(), names.ToArray());
    }

    /// <summary>The values of an int64 initializer (such as a Reshape's target shape); null when it is of another type or stored outside the file.</summary>
    public static long[]? Int64Values(OnnxNamed initializer)
    {
        const int TensorDataType = 2, TensorInt64Data = 7, TensorRawData = 9, Int64 = 7;
        if (initializer.IsExternal) return null;
        var payload = ProtoFields(initializer.Field).Single().Payload;
        var dataType = 0;
        List<long> values = [];
        byte[]? raw = null;
        foreach (var f in ProtoFields(payload))
        {
            if (f.Number == TensorDataType && f.WireType == WireVarint) dataType = (int)f.Varint;
            else if (f.Number == TensorInt64Data && f.WireType == WireVarint) values.Add((long)f.Varint);
            else if (f.Number == TensorInt64Data && f.WireType == WireLengthDelimited)
            {
                var position = 0;
                while (position < f.Payload.Length) values.Add((long)ReadVarint(f.Payload.Span, ref position));
            }
            else if (f.Number == TensorRawData && f.WireType == WireLengthDelimited) raw = f.Payload.ToArray();
        }
        if (dataType != Int64) return null;
        if (raw is not null) return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(raw).ToArray();
        return values.ToArray();
    }

    /// <summary>A one-dimensional int64 initializer, written from scratch.</summary>
    public static OnnxNamed Int64Initializer(string name, IReadOnlyList<long> values)
    {
        // TensorProto: dims (1), data_type (2) = INT64 (7), name (8), raw_data (9) little-endian.
        var tensor = new ArrayBufferWriter<byte>();
        WriteVarintField(tensor, 1, (ulong)values.Count);
        WriteVarintField(tensor, 2, 7);
        WriteLengthDelimited(tensor, TensorName, Encoding.UTF8.GetBytes(name));
        var raw = new byte[values.Count * sizeof(long)];
        for (var i = 0; i < values.Count; i++) System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * sizeof(long)), values[i]);
        WriteLengthDelimited(tensor, 9, raw);
        return NamedField(GraphInitializer, name, tensor.WrittenSpan);
    }

    /// <summary>An integer attribute of a node (such as Reshape's <c>allowzero</c>), or null when the node does not set it.</summary>
    public static long? IntAttribute(OnnxNode node, string name)
    {
        const int AttributeInt = 3;
        foreach (var f in ProtoFields(ProtoFields(node.Field).Single().Payload))
        {
            if (f.Number != NodeAttribute) continue;
            var attribute = ProtoFields(f.Payload).ToList();
            if (attribute.Where(a => a.Number == AttributeName).Select(Text).FirstOrDefault() != name) continue;
            return attribute.Where(a => a.Number == AttributeInt && a.WireType == WireVarint).Select(a => (long?)a.Varint).FirstOrDefault();
        }
        return null;
    }

    /// <summary>A node with no attributes, such as the Identity that renames a tensor.</summary>
    public static OnnxNode NewNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs)
    {
        var node = new ArrayBufferWriter<byte>();
        foreach (var input in inputs) WriteLengthDelimited(node, NodeInput, Encoding.UTF8.GetBytes(input));
        foreach (var output in outputs) WriteLengthDelimited(node, NodeOutput, Encoding.UTF8.GetBytes(output));
        WriteLengthDelimited(node, NodeOpType, Encoding.UTF8.GetBytes(opType));
        var field = new ArrayBufferWriter<byte>();
        WriteLengthDelimited(field, GraphNode, node.WrittenSpan);
        return new OnnxNode(inputs, outputs, opType, "", [], field.WrittenMemory);
    }

    /// <summary>A graph output given by name only; ONNX Runtime infers its type from the node that produces it.</summary>
    public static OnnxNamed UntypedValueInfo(string name)
    {
        var info = new ArrayBufferWriter<byte>();
        WriteLengthDelimited(info, ValueInfoName, Encoding.UTF8.GetBytes(name));
        return NamedField(GraphOutput, name, info.WrittenSpan);
    }

    /// <summary>The same value info, as a graph input (field 11) or output (field 12) entry.</summary>
    public static OnnxNamed AsInput(OnnxNamed info) => Retag(info, GraphInput);
    public static OnnxNamed AsOutput(OnnxNamed info) => Retag(info, GraphOutput);

    private static OnnxNamed Retag(OnnxNamed info, int field)
    {
        var payload = ProtoFields(info.Field).Single().Payload;
        return NamedField(field, info.Name, payload.Span) with { IsExternal = info.IsExternal };
    }

    private static OnnxNamed NamedField(int field, string name, ReadOnlySpan<byte> payload)
    {
        var writer = new ArrayBufferWriter<byte>(payload.Length + 8);
        WriteLengthDelimited(writer, field, payload);
        return new OnnxNamed(name, writer.WrittenMemory);
    }

    private static OnnxNode ReadNode(ProtoField field)
    {
        List<string> inputs = [], outputs = [];
        string opType = "", domain = "";
        var subgraphs = new List<OnnxSubgraph>();
        foreach (var f in ProtoFields(field.Payload))
        {
            switch (f.Number)
            {
                case NodeInput: inputs.Add(Text(f)); break;
                case NodeOutput: outputs.Add(Text(f)); break;
                case NodeOpType: opType = Text(f); break;
                case NodeDomain: domain = Text(f); break;
                case NodeAttribute:
                    var attribute = ProtoFields(f.Payload).ToList();
                    var name = attribute.Where(a => a.Number == AttributeName).Select(Text).FirstOrDefault() ?? "";
                    foreach (var a in attribute.Where(a => a.Number is AttributeGraph or AttributeGraphs))
                        subgraphs.Add(new OnnxSubgraph(name, a.Payload));
                    break;
            }
        }
        return new OnnxNode(inputs, outputs, opType, domain, subgraphs, field.Whole);
    }

    private static OnnxNamed ReadTensorName(ProtoField field)
    {
        string name = "";
        var external = false;
        foreach (var f in ProtoFields(field.Payload))
        {
            if (f.Number == TensorName) name = Text(f);
            else if (f.Number == TensorDataLocation && f.WireType == WireVarint) external = f.Varint == 1;
        }
        return new OnnxNamed(name, field.Whole, external);
    }

    private static OnnxNamed ReadValueInfoName(ProtoField field)
    {
        var name = ProtoFields(field.Payload).Where(f => f.Number == ValueInfoName).Select(Text).FirstOrDefault() ?? "";
        return new OnnxNamed(name, field.Whole);
    }

    private static string Text(ProtoField field) => Encoding.UTF8.GetString(field.Payload.Span);

    // Protobuf wire format: every field is a varint key (number << 3 | wire type) followed by its value.
    private const int WireVarint = 0, WireFixed64 = 1, WireLengthDelimited = 2, WireFixed32 = 5;

    private readonly record struct ProtoField(int Number, int WireType, ulong Varint, ReadOnlyMemory<byte> Payload, ReadOnlyMemory<byte> Whole);

    private static IEnumerable<ProtoField> ProtoFields(ReadOnlyMemory<byte> message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var start = position;
            var key = ReadVarint(message.Span, ref position);
            var number = (int)(key >> 3);
            var wireType = (int)(key & 7);
            ulong varint = 0;
            ReadOnlyMemory<byte> payload = default;
            switch (wireType)
            {
                case WireVarint:
                    varint = ReadVarint(message.Span, ref position);
                    break;
                case WireFixed64:
                    payload = Take(message, ref position, 8);
                    break;
                case WireFixed32:
                    payload = Take(message, ref position, 4);
                    break;
                case WireLengthDelimited:
                    var length = ReadVarint(message.Span, ref position);
                    if (length > int.MaxValue) throw new InvalidDataException("A protobuf field is longer than 2 GB.");
                    payload = Take(message, ref position, (int)length);
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {wireType} (field {number}).");
            }
            yield return new ProtoField(number, wireType, varint, payload, message[start..position]);
        }
    }

    private static ReadOnlyMemory<byte> Take(ReadOnlyMemory<byte> message, ref int position, int length)
    {
        if (length < 0 || position + length > message.Length) throw new InvalidDataException("A protobuf field runs past the end of its message.");
        var slice = message.Slice(position, length);
        position += length;
        return slice;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length) throw new InvalidDataException("A protobuf varint runs past the end of its message.");
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new InvalidDataException("A protobuf varint is longer than 10 bytes.");
    }

    private static void WriteVarint(IBufferWriter<byte> writer, ulong value)
    {
        Span<byte> buffer = stackalloc byte[10];
        var n = 0;
        while (value >= 0x80)
        {
            buffer[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        buffer[n++] = (byte)value;
        writer.Write(buffer[..n]);
    }

    private static void WriteVarintField(IBufferWriter<byte> writer, int number, ulong value)
    {
        WriteVarint(writer, (ulong)(number << 3 | WireVarint));
        WriteVarint(writer, value);
    }

    private static void WriteLengthDelimited(IBufferWriter<byte> writer, int number, ReadOnlySpan<byte> payload)
    {
        WriteVarint(writer, (ulong)(number << 3 | WireLengthDelimited));
        WriteVarint(writer, (ulong)payload.Length);
        writer.Write(payload);
    }
}

/// <summary>A node of an ONNX graph; <see cref="Field"/> is its whole encoded entry, written back as it is.</summary>
public sealed record OnnxNode(IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, string OpType, string Domain,
    IReadOnlyList<OnnxSubgraph> Subgraphs, ReadOnlyMemory<byte> Field)
{
    public bool HasSubgraph => Subgraphs.Count > 0;
}

/// <summary>A graph-valued attribute of a node (If's then_branch and else_branch, Loop's body), still encoded.</summary>
public sealed record OnnxSubgraph(string Attribute, ReadOnlyMemory<byte> Graph);

/// <summary>A graph's entries; <see cref="OtherFields"/> holds the encoded fields this reader does not look into.</summary>
public sealed record OnnxGraph(IReadOnlyList<OnnxNode> Nodes, IReadOnlyList<OnnxNamed> Initializers, IReadOnlyList<OnnxNamed> Inputs,
    IReadOnlyList<OnnxNamed> Outputs, IReadOnlyList<OnnxNamed> ValueInfos, bool HasSparseInitializers, IReadOnlyList<ReadOnlyMemory<byte>> OtherFields);

/// <summary>A named graph entry (initializer, input, output or value info) and its whole encoded field.</summary>
public sealed record OnnxNamed(string Name, ReadOnlyMemory<byte> Field, bool IsExternal = false);
