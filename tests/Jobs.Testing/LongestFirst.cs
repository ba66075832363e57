using Xunit;
using Xunit.Abstractions;

namespace Jobs.Testing;

/// <summary>
/// How long a test collection's tests take together, in seconds, as measured in a run of the suite: a scheduling hint
/// for <see cref="LongestFirstCollectionOrderer"/>, put on a <c>[CollectionDefinition]</c> class or on a test class that
/// is a collection of its own. A stale value changes only the order in which collections start, never a result.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class TakesAboutAttribute(int seconds) : Attribute
{
    public int Seconds => seconds;
}

/// <summary>
/// Starts the longest test collections first. xunit (2.8 and later, "conservative") runs at most
/// <c>maxParallelThreads</c> tests at once and hands the free places out in the order the collections were started; its
/// default order is by a hash of their ids. A long collection that happened to start late — the fault runner's restart
/// cases, each waiting out a 30 s visibility timeout — then ran alone at the end while the other places stood idle.
/// Longest first (then by name, so the order is the same every run) keeps the places full until the end.
/// </summary>
public sealed class LongestFirstCollectionOrderer : ITestCollectionOrderer
{
    /// <summary>The full name of this type, for <c>[assembly: TestCollectionOrderer(…)]</c>.</summary>
    public const string TypeName = "Jobs.Testing.LongestFirstCollectionOrderer";

    /// <summary>The assembly this type is in, for <c>[assembly: TestCollectionOrderer(…)]</c>.</summary>
    public const string AssemblyName = "Jobs.Testing";

    // xunit names a class's own collection after the class (CollectionPerClassTestCollectionFactory).
    private const string PerClassPrefix = "Test collection for ";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderByDescending(Seconds).ThenBy(c => c.DisplayName, StringComparer.Ordinal);

    /// <summary>The collection's <see cref="TakesAboutAttribute"/>, on its definition or on the class it was made for; 0 without one.</summary>
    public static int Seconds(ITestCollection collection)
    {
        var type = collection.CollectionDefinition
            ?? (collection.DisplayName.StartsWith(PerClassPrefix, StringComparison.Ordinal)
                ? collection.TestAssembly.Assembly.GetType(collection.DisplayName[PerClassPrefix.Length..])
                : null);
        var hint = type?.GetCustomAttributes(typeof(TakesAboutAttribute).AssemblyQualifiedName!).FirstOrDefault();
        return hint is null ? 0 : hint.GetConstructorArguments().OfType<int>().FirstOrDefault();
    }
}
