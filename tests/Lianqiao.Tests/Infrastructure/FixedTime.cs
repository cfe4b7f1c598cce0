namespace Lianqiao.Tests.Infrastructure;

/// <summary>A clock that always reads the same instant.</summary>
sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
