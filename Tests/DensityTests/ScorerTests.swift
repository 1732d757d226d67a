import Density
import TensorFiles
import Testing

/// Each `ScorerKind` against numpy / scikit-learn on the fixture data.
@Suite struct ScorerTests {
  static let neighbourScorers: [ScorerKind] = [.knn, .cosineKNN, .meanShifted, .angularCenter]

  /// knn, cosine-knn, mean-shifted (k = 2) and angular-center, computed in
  /// float64 by numpy from their definitions.
  @Test(arguments: neighbourScorers) func matchesNumpy(_ scorer: ScorerKind) throws {
    let f = try DensityFixture.open()
    let bank = try DensityFixture.matrix(f, "scorer.bank")
    let queries = try DensityFixture.matrix(f, "scorer.queries")
    let expected = try f.doubles("scorer.\(scorer.rawValue)", shape: [queries.rows])
    var model = try ReferenceBank(fitting: bank, scorer: scorer)
    #expect(model.k == 2 && model.count == bank.rows && model.dimension == bank.columns)
    let scores = try model.score(queries)
    try #require(scores.count == queries.rows)
    for (i, (s, e)) in zip(scores, expected).enumerated() {
      #expect(isClose(Double(s), e, relative: 1e-3, absolute: 1e-5), "\(scorer.rawValue) query \(i): \(s) vs numpy \(e)")
    }
    // The inliers (first 10 queries) score below every outlier.
    #expect(scores[..<10].max()! < scores[10...].min()!)
    // Block sizes and workers don't change the scores beyond rounding.
    model.search = NearestNeighbors(queryBlock: 7, bankBlock: 13, workers: 2)
    let again = try model.score(queries)
    for (a, b) in zip(again, scores) { #expect(isClose(Double(a), Double(b), relative: 1e-5, absolute: 1e-6)) }
    // One query at a time (the bank-splitting path) gives the same scores.
    for i in [0, 13, 29] {
      let single = try model.score(queries.selecting([i]))
      #expect(isClose(Double(single[0]), Double(scores[i]), relative: 1e-5, absolute: 1e-6))
    }
  }

  @Test func normalisingScorersStoreUnitRows() throws {
    let f = try DensityFixture.open()
    let bank = try DensityFixture.matrix(f, "scorer.bank")
    for scorer in ScorerKind.allCases {
      let model = try ReferenceBank(fitting: bank, scorer: scorer)
      let stored = model.features
      for r in 0..<stored.rows {
        let norm = stored[row: r].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        if scorer.normalizes {
          #expect(abs(norm - 1) <= 1e-5)
        } else {
          #expect(Array(stored[row: r]) == Array(bank[row: r]))
        }
      }
      #expect((model.center != nil) == scorer.normalizes)
      #expect((model.gaussian != nil) == (scorer == .gaussian))
    }
  }

  /// sklearn `LedoitWolf().fit(bank)`: shrinkage, location and squared
  /// Mahalanobis distances, with n < D (40 × 64) and n > D (300 × 12).
  @Test(arguments: ["gauss_small", "gauss_large"]) func gaussianMatchesLedoitWolf(_ name: String) throws {
    let f = try DensityFixture.open()
    let bank = try DensityFixture.matrix(f, "\(name).bank")
    let queries = try DensityFixture.matrix(f, "\(name).queries")
    let shrinkage = try f.doubles("\(name).shrinkage")[0]
    let mean = try f.doubles("\(name).mean", shape: [bank.columns])
    let expected = try f.doubles("\(name).scores", shape: [queries.rows])

    let model = try ReferenceBank(fitting: bank, scorer: .gaussian)
    let g = try #require(model.gaussian)
    #expect(abs(g.shrinkage - shrinkage) <= 1e-9, "shrinkage \(g.shrinkage) vs sklearn \(shrinkage)")
    #expect(g.shrinkage > 0 && g.shrinkage < 1)
    for (a, b) in zip(g.mean, mean) { #expect(abs(a - b) <= 1e-9 * max(1, abs(b))) }
    let scores = try model.score(queries)
    for (i, (s, e)) in zip(scores, expected).enumerated() {
      #expect(isClose(Double(s), e, relative: 1e-5), "\(name) query \(i): \(s) vs sklearn \(e)")
    }
    // Scoring the same rows through GaussianDensity directly agrees.
    #expect(g.score(queries) == scores)
    // The Cholesky factor is lower triangular.
    let d = g.dimension
    for i in 0..<d {
      for j in (i + 1)..<d where j < d { #expect(g.cholesky[i * d + j] == 0) }
      #expect(g.cholesky[i * d + i] > 0)
    }
  }

  @Test func gaussianFactorReproducesSklearnCovariance() throws {
    let f = try DensityFixture.open()
    let bank = try DensityFixture.matrix(f, "gauss_large.bank")
    let d = bank.columns
    let covariance = try f.doubles("gauss_large.covariance", shape: [d, d])
    let g = try GaussianDensity.fit(bank)
    for i in 0..<d {
      for j in 0..<d {
        var s = 0.0
        for t in 0..<d { s += g.cholesky[i * d + t] * g.cholesky[j * d + t] }
        #expect(isClose(s, covariance[i * d + j], relative: 1e-9, absolute: 1e-12), "Σ[\(i), \(j)]: \(s) vs \(covariance[i * d + j])")
      }
    }
  }

  @Test func gaussianRejectsDegenerateBanks() {
    // One sample is not enough.
    let one = FeatureMatrix(rows: 1, columns: 3, values: [1, 2, 3])
    guard case .emptyBank = densityError({ try ReferenceBank(fitting: one, scorer: .gaussian) }) else {
      Issue.record("a one-row Gaussian bank must throw .emptyBank")
      return
    }
    // Constant features: zero covariance, no Cholesky factor.
    let constant = FeatureMatrix(rows: 4, columns: 3, values: [Float](repeating: 2, count: 12))
    guard case .numerical = densityError({ try ReferenceBank(fitting: constant, scorer: .gaussian) }) else {
      Issue.record("a constant Gaussian bank must throw .numerical")
      return
    }
  }

  @Test func angularCenterAndMeanShiftedByHand() throws {
    // Bank along +x and +y: center (0.5, 0.5); a query along the center
    // scores 1 − cos 0 = 0, one along −center scores 2.
    let bank = FeatureMatrix(rows: 2, columns: 2, values: [3, 0, 0, 5])
    let model = try ReferenceBank(fitting: bank, scorer: .angularCenter)
    #expect(model.center == [0.5, 0.5])
    let s = try model.score(FeatureMatrix(rows: 3, columns: 2, values: [2, 2, -1, -1, 1, 0]))
    #expect(abs(s[0]) <= 1e-6)
    #expect(abs(s[1] - 2) <= 1e-6)
    #expect(abs(s[2] - (1 - Float(0.5).squareRoot())) <= 1e-6)
    // Mean-shifted on the same bank: ψ(x̂) = ±(1, −1)/√2; the query (1, 0)
    // maps to ψ = (1, −1)/√2, i.e. the first bank row: k = 1 distance 0.
    let ms = try ReferenceBank(fitting: bank, scorer: .meanShifted, k: 1)
    let d = try ms.score(FeatureMatrix(rows: 2, columns: 2, values: [7, 0, 0, 1]))
    #expect(abs(d[0]) <= 1e-6 && abs(d[1]) <= 1e-6)
    let far = try ms.score(FeatureMatrix(rows: 1, columns: 2, values: [1, 0.2]))
    #expect(far[0] > 0)
  }
}
