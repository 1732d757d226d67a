import ArgumentParser

/// `anomalykit identity fit|check`: the identity half of FACTOR, "is this
/// person P?", answered from real photos of P only.
struct IdentityCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "identity", abstract: "Identity fact-check (FACTOR): does a face match authentic photos of the claimed person?",
    discussion: """
      'identity fit' builds a bank of face descriptors (dlib's face ResNet) from authentic photos of one \
      person; 'identity check' gives every image claimed to show that person a truth score, the cosine \
      similarity to the nearest reference, and supports the claim when it reaches the bank's threshold \
      (default 0.92: dlib's 0.6 Euclidean same-person rule at the descriptors' typical norm, 1.52).
      """,
    subcommands: [IdentityFitCommand.self, IdentityCheckCommand.self])
}
