import Testing

/// `--help` works for the tool and every subcommand (exit 0, usage on stdout).
@Suite("CLI: help")
struct HelpCLITests {
  @Test(arguments: [
    [], ["fit"], ["score"], ["add"], ["eval"], ["demo"], ["embed"], ["classify"], ["info"], ["adapt"], ["coldstart"],
    ["coldstart", "eval"], ["identity"], ["identity", "fit"], ["identity", "check"],
  ])
  func helpPrintsUsage(_ command: [String]) throws {
    let r = try CLIRunner.run(command + ["--help"])
    #expect(r.status == 0, "\(command): \(r.stderr)")
    #expect(r.stdout.contains("USAGE:"), "\(command): \(r.stdout.prefix(200)) \(r.stderr.prefix(200))")
  }
}
