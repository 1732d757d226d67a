import CKernels
import ParallelCompute

extension EfficientNetLite {
  /// Per-worker scratch memory, sized once for the input size.
  final class Workspace {
    let buffers: [UnsafeMutableBufferPointer<Float>]
    let columns: UnsafeMutableBufferPointer<Float>
    /// The expansion rows of a banded block (`expandInBands`).
    let band: UnsafeMutableBufferPointer<Float>

    init(elements: Int, columns: Int, band: Int) {
      buffers = (0..<3).map { _ in
        let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: elements)
        b.initialize(repeating: 0)
        return b
      }
      self.columns = .allocate(capacity: columns)
      self.columns.initialize(repeating: 0)
      self.band = .allocate(capacity: max(band, 1))
      self.band.initialize(repeating: 0)
    }

    deinit {
      buffers.forEach { $0.deallocate() }
      columns.deallocate()
      band.deallocate()
    }
  }

  /// Floats needed by the largest activation at the input size.
  var largestActivation: Int {
    var (h, w) = stem.outputSize(height: inputSize, width: inputSize)
    var largest = h * w * stem.outputChannels
    for b in blocks {
      if let e = b.expand { largest = max(largest, h * w * e.outputChannels) }
      let (oh, ow) = b.depthwise.outputSize(height: h, width: w)
      largest = max(largest, oh * ow * b.depthwise.channels, oh * ow * b.project.outputChannels)
      (h, w) = (oh, ow)
    }
    return max(largest, h * w * head.outputChannels)
  }

  /// `forward(_:count:layers:workers:)`'s body (declared in the class
  /// body, where DocC documents protocol requirements).
  /// With `recorder`, the input of the stem and of every 1×1 convolution is
  /// observed before it runs (`calibratedInt8(on:count:workers:)`).
  func runForward(
    _ input: [Float], count: Int, layers: Set<FeatureLayer>, workers: Int, recorder: ActivationRangeRecorder? = nil
  ) -> BackboneOutput {
    let imageElements = inputSize * inputSize * 3
    precondition(input.count == count * imageElements, "input must hold count × inputSize² × 3 floats")
    var output = BackboneOutput()
    let wantPooled = layers.contains(.pooled) || layers.contains(.logits)
    var pooled = [Float](repeating: 0, count: wantPooled ? count * featureDimension : 0)
    var requestedStages: [Int] = []
    var stageShapes: [Int: (Int, Int, Int)] = [:]
    for case .stage(let n) in layers {
      guard let shape = stageShape(n) else { continue }
      requestedStages.append(n)
      stageShapes[n] = shape
    }
    requestedStages.sort()
    let lastNeededStage = wantPooled ? Int.max : (requestedStages.last ?? 0)

    let activation = largestActivation
    let columns = stem.columnsCount(height: inputSize, width: inputSize)
    let band = recorder == nil ? largestBand : 0
    let workerCount = max(1, min(workers, count))

    // Stage outputs as shared pointers (each worker writes only its images).
    var stagePointers: [Int: SharedBuffer<Float>] = [:]
    var keep: [UnsafeMutableBufferPointer<Float>] = []
    for n in requestedStages {
      guard let (h, w, c) = stageShapes[n] else { continue }
      let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count * h * w * c)
      keep.append(buffer)
      stagePointers[n] = SharedBuffer(buffer)
    }
    defer { keep.forEach { $0.deallocate() } }
    let stageTargets = stagePointers

    input.withUnsafeBufferPointer { inputBuffer in
      pooled.withUnsafeMutableBufferPointer { pooledBuffer in
        let src = SharedReadOnlyBuffer(inputBuffer)
        let pooledOut = SharedBuffer(pooledBuffer)
        ParallelFor.run(workers: workerCount) { worker in
          let workspace = Workspace(elements: activation, columns: columns, band: band)
          var image = worker
          while image < count {
            self.runOne(
              input: src.base + image * imageElements, workspace: workspace,
              pooled: wantPooled ? pooledOut.base + image * self.featureDimension : nil,
              stageTargets: stageTargets, image: image, lastStage: lastNeededStage, recorder: recorder)
            image += workerCount
          }
        }
      }
    }
    for n in requestedStages {
      guard let (h, w, c) = stageShapes[n], let target = stagePointers[n] else { continue }
      let values = Array(UnsafeBufferPointer(start: target.base, count: target.count))
      output.stages[n] = FeatureMaps(count: count, height: h, width: w, channels: c, values: values)
    }
    if layers.contains(.pooled) { output.pooled = pooled }
    if layers.contains(.logits) { output.logits = logits(pooled: pooled, count: count) }
    return output
  }

  /// `classify(pooled:count:)`'s body.
  func logits(pooled: [Float], count: Int) -> [Float] {
    var logits = [Float](repeating: 0, count: count * classCount)
    for i in 0..<count {
      for j in 0..<classCount { logits[i * classCount + j] = classifierBias[j] }
    }
    guard count > 0 else { return logits }
    ParallelFor.useSingleThreadedBLAS()
    pooled.withUnsafeBufferPointer { p in
      classifierWeights.withUnsafeBufferPointer { w in
        logits.withUnsafeMutableBufferPointer { l in
          gemm(
            m: count, n: classCount, k: featureDimension, a: p.baseAddress.unsafelyUnwrapped, lda: featureDimension,
            b: w.baseAddress.unsafelyUnwrapped, ldb: classCount, c: l.baseAddress.unsafelyUnwrapped, ldc: classCount, beta: 1)
        }
      }
    }
    return logits
  }

  private func runOne(
    input: UnsafePointer<Float>, workspace: Workspace, pooled: UnsafeMutablePointer<Float>?,
    stageTargets: [Int: SharedBuffer<Float>], image: Int, lastStage: Int, recorder: ActivationRangeRecorder?
  ) {
    let b = workspace.buffers.map { $0.baseAddress.unsafelyUnwrapped }
    var (h, w) = stem.outputSize(height: inputSize, width: inputSize)
    recorder?.observe(0, input, count: inputSize * inputSize * 3)
    stem.run(
      input: input, height: inputSize, width: inputSize, output: b[0], columns: workspace.columns.baseAddress.unsafelyUnwrapped,
      codes: b[1])
    // Buffer roles rotate: `current` holds the block input; the other two
    // take the expansion and the depthwise output; the projection overwrites
    // the expansion buffer, which is free by then.
    var current = 0
    var product = 1  // the product about to run, for `recorder` (the stem was 0)
    for (index, block) in blocks.enumerated() {
      if block.stage > lastStage { return }
      let spare = (current + 1) % 3
      let depthwiseOut = (current + 2) % 3
      let residual: UnsafePointer<Float>? = block.residual ? UnsafePointer(b[current]) : nil
      let (oh, ow) = block.depthwise.outputSize(height: h, width: w)
      // int8: the depthwise output goes straight to the projection's 8-bit
      // codes, band by band, instead of through a float map.
      let quantizes = block.project.product.takesQuantizedInput
      let channels = block.depthwise.channels
      let words = ak_i8_gemm_scratch_count(oh * ow, channels)
      let (height, width) = (h, w)
      func depthwise(_ rows: Range<Int>, _ input: UnsafePointer<Float>, _ firstInputRow: Int) {
        if quantizes {
          UnsafeMutableRawPointer(b[depthwiseOut]).withMemoryRebound(to: UInt32.self, capacity: words) { codes in
            block.depthwise.runQuantized(
              input: input, firstInputRow: firstInputRow, height: height, width: width, rows: rows, for: block.project.product,
              quantized: codes + rows.lowerBound * ow * ((channels + 3) / 4))
          }
        } else {
          block.depthwise.run(
            input: input, firstInputRow: firstInputRow, height: height, width: width, rows: rows,
            output: b[depthwiseOut] + rows.lowerBound * ow * channels)
        }
      }
      if let e = block.expand {
        recorder?.observe(product, b[current], count: h * w * e.inputChannels)
        product += 1
        if recorder == nil, let plan = bandPlan(block, height: h, width: w) {
          expandInBands(
            block, plan: plan, input: b[current], height: h, width: w, band: workspace.band.baseAddress.unsafelyUnwrapped,
            depthwise: depthwise)
        } else {
          e.run(input: b[current], pixels: h * w, output: b[spare])
          depthwise(0..<oh, b[spare], 0)
        }
      } else {
        depthwise(0..<oh, b[current], 0)
      }
      (h, w) = (oh, ow)
      if quantizes {
        UnsafeMutableRawPointer(b[depthwiseOut]).withMemoryRebound(to: UInt32.self, capacity: words) { codes in
          block.project.product.runQuantized(
            m: oh * ow, rows: codes, c: b[spare], residual: residual, activation: block.project.activation)
        }
      } else {
        recorder?.observe(product, b[depthwiseOut], count: h * w * block.project.inputChannels)
        block.project.run(input: b[depthwiseOut], pixels: h * w, output: b[spare], residual: residual)
      }
      product += 1
      current = spare
      let endsStage = index + 1 == blocks.count || blocks[index + 1].stage != block.stage
      if endsStage, let target = stageTargets[block.stage] {
        let n = h * w * block.project.outputChannels
        (target.base + image * n).update(from: b[current], count: n)
      }
    }
    guard let pooled else { return }
    let out = (current + 1) % 3
    recorder?.observe(product, b[current], count: h * w * head.inputChannels)
    head.run(input: b[current], pixels: h * w, output: b[out])
    let channels = head.outputChannels
    let scale = 1 / Float(h * w)
    for c in 0..<channels { pooled[c] = 0 }
    for p in 0..<(h * w) {
      let row = b[out] + p * channels
      for c in 0..<channels { pooled[c] += row[c] }
    }
    for c in 0..<channels { pooled[c] *= scale }
  }
}
