import Density
import Testing

/// Errors from fitting and scoring a `ReferenceBank`.
@Suite struct ReferenceBankTests {
  static func grid(rows: Int, columns: Int, offset: Float = 0) -> FeatureMatrix {
    FeatureMatrix(
      rows: rows, columns: columns, values: (0..<(rows * columns)).map { Float(($0 * 7919) % 23) * 0.25 - 2 + offset })
  }

  @Test(arguments: ScorerKind.allCases) func emptyBankThrows(_ scorer: ScorerKind) {
    let empty = FeatureMatrix(rows: 0, columns: 4, values: [])
    guard case .emptyBank = densityError({ try ReferenceBank(fitting: empty, scorer: scorer) }) else {
      Issue.record("\(scorer.rawValue): expected .emptyBank")
      return
    }
  }

  @Test(arguments: ScorerKind.allCases) func kLargerThanTheBank(_ scorer: ScorerKind) throws {
    let bank = Self.grid(rows: 3, columns: 4)
    if scorer.usesNeighbors {
      #expect(throws: DensityError.kTooLarge(k: 4, bankSize: 3)) { try ReferenceBank(fitting: bank, scorer: scorer, k: 4) }
      // k equal to the bank size is fine.
      let model = try ReferenceBank(fitting: bank, scorer: scorer, k: 3)
      #expect(try model.score(Self.grid(rows: 2, columns: 4, offset: 0.1)).count == 2)
    } else {
      // Scorers without neighbours ignore k.
      let model = try ReferenceBank(fitting: bank, scorer: scorer, k: 4)
      #expect(try model.score(Self.grid(rows: 2, columns: 4, offset: 0.1)).count == 2)
    }
    guard case .invalidArgument = densityError({ try ReferenceBank(fitting: bank, scorer: scorer, k: 0) }) else {
      Issue.record("\(scorer.rawValue): k = 0 must throw .invalidArgument")
      return
    }
  }

  @Test(arguments: ScorerKind.allCases) func nonFiniteFeaturesName(_ scorer: ScorerKind) throws {
    for bad in [Float.nan, .infinity, -.infinity] {
      var fit = Self.grid(rows: 5, columns: 4)
      fit.values[2 * 4 + 3] = bad
      #expect(throws: DensityError.nonFinite(source: "normal features", row: 2, column: 3)) {
        try ReferenceBank(fitting: fit, scorer: scorer)
      }
      let model = try ReferenceBank(fitting: Self.grid(rows: 5, columns: 4), scorer: scorer)
      var queries = Self.grid(rows: 3, columns: 4, offset: 0.3)
      queries.values[1 * 4 + 0] = bad
      #expect(throws: DensityError.nonFinite(source: "queries", row: 1, column: 0)) { try model.score(queries) }
      #expect(throws: DensityError.nonFinite(source: "test images", row: 1, column: 0)) {
        try model.score(queries, source: "test images")
      }
      #expect(throws: DensityError.nonFinite(source: "new normal features", row: 1, column: 0)) { try model.adding(queries) }
      // The first non-finite value is reported.
      queries.values[2 * 4 + 1] = bad
      queries.values[0 * 4 + 2] = bad
      #expect(throws: DensityError.nonFinite(source: "queries", row: 0, column: 2)) { try model.score(queries) }
    }
  }

  @Test(arguments: ScorerKind.allCases) func dimensionMismatch(_ scorer: ScorerKind) throws {
    let model = try ReferenceBank(fitting: Self.grid(rows: 5, columns: 4), scorer: scorer)
    #expect(throws: DensityError.dimensionMismatch(source: "queries", expected: 4, actual: 5)) {
      try model.score(Self.grid(rows: 2, columns: 5))
    }
    #expect(throws: DensityError.dimensionMismatch(source: "queries", expected: 4, actual: 3)) {
      try model.score(Self.grid(rows: 2, columns: 3))
    }
    #expect(throws: DensityError.dimensionMismatch(source: "new normal features", expected: 4, actual: 5)) {
      try model.adding(Self.grid(rows: 2, columns: 5))
    }
    // No queries: nothing to score, whatever the width.
    #expect(try model.score(FeatureMatrix(rows: 0, columns: 4, values: [])) == [])
    #expect(try model.score(FeatureMatrix(rows: 0, columns: 9, values: [])) == [])
  }

  @Test func errorDescriptionsNameTheProblem() {
    #expect(DensityError.kTooLarge(k: 5, bankSize: 3).description.contains("--k 3"))
    #expect(DensityError.nonFinite(source: "queries", row: 2, column: 7).description.contains("row 2, column 7"))
    #expect(DensityError.dimensionMismatch(source: "q", expected: 4, actual: 5).description.contains("dimension 5"))
  }

  @Test func verdictNeedsAThreshold() throws {
    var model = try ReferenceBank(fitting: Self.grid(rows: 5, columns: 4), scorer: .knn)
    #expect(model.isAnomalous(100) == nil)
    model.threshold = 2
    #expect(model.isAnomalous(2) == false)
    #expect(model.isAnomalous(2.0001) == true)
    #expect(model.isAnomalous(-1) == false)
  }
}
