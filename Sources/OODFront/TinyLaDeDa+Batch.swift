import FeatureExtraction
import ParallelCompute

extension TinyLaDeDa {
  /// Scores decoded images in parallel (one image per worker at a time,
  /// each worker with its own buffers); outputs in input order, each equal
  /// to `score(image)`.
  public func score(images: [RGBImage], workers: Int = ParallelFor.defaultWorkers) -> [TinyLaDeDaOutput] {
    var results = [TinyLaDeDaOutput?](repeating: nil, count: images.count)
    let model = self
    results.withUnsafeMutableBufferPointer { buffer in
      let slots = SharedBuffer(buffer)
      ParallelFor.chunks(count: images.count, workers: max(1, workers)) { range in
        var workspace = Workspace()
        for i in range { slots[i] = model.score(images[i], workspace: &workspace) }
      }
    }
    let outputs = results.compactMap { $0 }
    precondition(outputs.count == images.count, "every image was scored")
    return outputs
  }

  /// Decodes and scores `paths`, in parallel over images (one image per
  /// worker at a time, each worker with its own buffers), and returns the
  /// outputs in path order.
  ///
  /// A file that cannot be decoded stops the run (at the end of its block)
  /// with the `ImageError` of the first such file in path order; it names
  /// the file.
  ///
  /// - Parameters:
  ///   - paths: the image files (PNG or JPEG).
  ///   - limits: pixel budget checked before decoding.
  ///   - harmonizer: a JPEG round trip applied to each decoded image before
  ///     scoring (nil: none).
  ///   - workers: parallel workers (default: the number of cores, or
  ///     `ANOMALYKIT_THREADS`).
  ///   - progress: called on the calling thread with (done, total) after
  ///     each block of images.
  public func score(
    paths: [String], limits: ImageLimits = ImageLimits(), harmonizer: CompressionHarmonizer? = nil,
    workers: Int = ParallelFor.defaultWorkers, progress: ((Int, Int) -> Void)? = nil
  ) throws -> [TinyLaDeDaOutput] {
    let workers = max(1, workers)
    var results: [TinyLaDeDaOutput] = []
    results.reserveCapacity(paths.count)
    // Blocks of several images per worker keep the progress reports
    // regular without waking the pool for every image; a failing block
    // stops the run with the error of its first failed file.
    let block = max(16, 8 * workers)
    var start = 0
    while start < paths.count {
      let first = start
      let end = min(paths.count, start + block)
      let model = self
      let slots = ResultSlots<TinyLaDeDaOutput>(count: end - start)
      ParallelFor.chunks(count: end - start, workers: workers) { range in
        var workspace = Workspace()
        for i in range {
          let index = first + i
          slots.set(
            i,
            Result {
              var image = try ImageDecoder.decode(path: paths[index], limits: limits)
              if let harmonizer { image = try harmonizer.apply(image, path: paths[index]) }
              return model.score(image, workspace: &workspace)
            })
        }
      }
      results += try slots.values()
      progress?(end, paths.count)
      start = end
    }
    return results
  }
}
