using System.Buffers.Binary;
using System.Text;

namespace TransformerCourse.Runtime;

/// <summary>
/// Reads and edits the symbol-version requirements (the ELF <c>SHT_GNU_verneed</c> section) of a
/// 64-bit little-endian shared library. Used to mark one requirement weak so that the dynamic
/// loader tolerates an older libstdc++ (see docs in TorchRuntime).
/// </summary>
public static class ElfVersionNeeds
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    public const ushort VerFlagWeak = 0x2;

    /// <summary>One required version, e.g. GLIBCXX_3.4.32 from libstdc++.so.6.</summary>
    public sealed record Requirement(string Library, string Version, ushort Flags, long FlagsOffset)
    {
        public bool IsWeak => (Flags & VerFlagWeak) != 0;
    }

    public static IReadOnlyList<Requirement> Read(ReadOnlySpan<byte> elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new ArgumentException($"Not an ELF file ({elf.Length} bytes, bad magic).", nameof(elf));
        if (elf[4] != 2 || elf[5] != 1)
            throw new ArgumentException($"Only 64-bit little-endian ELF is supported (class {elf[4]}, data {elf[5]}).", nameof(elf));

        long shoff = (long)U64(elf, 0x28);
        int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
        var result = new List<Requirement>();
        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)(shoff + (long)i * shentsize));
            if (U32(elf, sh + 4) != ShtGnuVerneed) continue;
            long offset = (long)U64(elf, sh + 0x18);
            int link = (int)U32(elf, sh + 0x28), count = (int)U32(elf, sh + 0x2C);
            long strtab = (long)U64(elf, checked((int)(shoff + (long)link * shentsize)) + 0x18);

            long need = offset;
            for (int n = 0; n < count; n++)
            {
                int vn = checked((int)need);
                int auxCount = U16(elf, vn + 2);
                string file = CString(elf, strtab + U32(elf, vn + 4));
                long aux = need + U32(elf, vn + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    int va = checked((int)aux);
                    result.Add(new Requirement(file, CString(elf, strtab + U32(elf, va + 8)), U16(elf, va + 4), aux + 4));
                    aux += U32(elf, va + 12);
                }
                need += U32(elf, vn + 12);
            }
        }
        return result;
    }

    /// <summary>Returns a copy of <paramref name="elf"/> in which the named versions are weak requirements.</summary>
    public static byte[] WithWeakVersions(ReadOnlySpan<byte> elf, IReadOnlyCollection<string> versions)
    {
        var copy = elf.ToArray();
        var found = new HashSet<string>();
        foreach (var req in Read(elf))
        {
            if (!versions.Contains(req.Version)) continue;
            BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan((int)req.FlagsOffset), (ushort)(req.Flags | VerFlagWeak));
            found.Add(req.Version);
        }
        var missing = versions.Where(v => !found.Contains(v)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"The library does not require version(s) {string.Join(", ", missing)}.", nameof(versions));
        return copy;
    }

    static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);
    static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);
    static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b[at..]);

    static string CString(ReadOnlySpan<byte> b, long at)
    {
        var rest = b[checked((int)at)..];
        int end = rest.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? rest : rest[..end]);
    }
}
