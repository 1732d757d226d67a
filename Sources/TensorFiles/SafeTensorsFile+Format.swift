extension SafeTensorsFile {
  /// Why this file is not an AnomalyKit file of kind `format` at
  /// `version`, or nil when it is. Banks, detectors and identity banks all
  /// make this check first (each wraps the reason in its own error);
  /// `otherKinds` names what the file may be instead, for the message.
  public func formatProblem(format: String, version: String, otherKinds: String) -> String? {
    if metadata["format"] != format {
      return "metadata 'format' is '\(metadata["format"] ?? "(missing)")', expected '\(format)' (is this a \(otherKinds) file?)"
    }
    if metadata["format_version"] != version {
      return "format_version '\(metadata["format_version"] ?? "(missing)")' is not supported (this toolkit reads version \(version))"
    }
    return nil
  }
}
