using Vigil.Response.Execd;
using Vigil.Transport.Agent;

namespace Vigil.Hosting;

/// <summary>A tailed file's position kept in the durable queue's state, beside the events it produced.</summary>
internal sealed class QueueTailPosition(DurableEventQueue queue, string name) : ITailPosition
{
    public (ulong Inode, long Offset)? Load() =>
        queue.GetState(name + ".inode") is { } inode && queue.GetState(name + ".offset") is { } offset ? (unchecked((ulong)inode), offset) : null;

    public void Save(ulong inode, long offset)
    {
        queue.SetState(name + ".inode", unchecked((long)inode));
        queue.SetState(name + ".offset", offset);
    }
}
