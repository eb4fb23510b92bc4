using Iris.Configuration;
using Iris.Core.Library.Vectors;
using Microsoft.Extensions.DependencyInjection;

namespace Iris.Tests.Configuration;

public class VectorIndexConfigurationTests
{
    private static IrisOptions Load(params (string Key, string? Value)[] values) =>
        IrisConfiguration.Load(IrisConfiguration.Build(overrides: values.Select(v => KeyValuePair.Create(v.Key, v.Value))));

    private static IVectorIndex Resolve(IrisOptions options)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddIrisVectorIndex(options);
        return services.BuildServiceProvider().GetRequiredService<IVectorIndex>();
    }

    [Fact]
    public void The_embedded_index_is_the_default_with_its_file_under_data()
    {
        var options = Load();
        Assert.Equal(("embedded", "data/vectors.db", 0), (options.Library.Index, options.Library.IndexDatabase, options.Library.IndexThreads));
        var index = Assert.IsType<EmbeddedVectorIndex>(Resolve(options));
        Assert.Equal(Path.GetFullPath("data/vectors.db"), index.Path);
    }

    [Fact]
    public void Library_Index_pgvector_registers_the_pgvector_index_without_connecting()
    {
        var options = Load(("Library:Index", "pgvector"), ("Library:IndexPostgres", "Host=db.invalid;Database=iris;Username=iris"));
        Assert.IsType<PgVectorIndex>(Resolve(options));
        Assert.Equal((200, 20_000, 16, 64, "public"), (options.Library.IndexEfSearch, options.Library.IndexExactBelow,
            options.Library.IndexHnswM, options.Library.IndexHnswEfConstruction, options.Library.IndexSchema));
    }

    [Theory]
    [InlineData("Library:Index", "faiss")]
    [InlineData("Library:IndexDatabase", "")]
    [InlineData("Library:IndexThreads", "-1")]
    [InlineData("Library:IndexEfSearch", "0")]
    [InlineData("Library:IndexEfSearch", "1001")]
    [InlineData("Library:IndexExactBelow", "-5")]
    [InlineData("Library:IndexHnswM", "1")]
    [InlineData("Library:IndexHnswEfConstruction", "20")]
    [InlineData("Library:IndexSchema", "public; drop table x")]
    public void An_invalid_index_option_is_refused_at_startup_naming_the_key(string key, string value)
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => Load((key, value)));
        Assert.Contains(key, error.Message);
    }
}
