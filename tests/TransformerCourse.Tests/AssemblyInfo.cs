// TorchSharp work on a 2-core machine collapses when two workloads share it: run tests one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
