/// The first file of a `multipart/form-data` body (RFC 7578), for
/// `POST /v1/score/image` from an HTML form or `curl -F image=@x.png`.
///
/// Only what an upload needs: the boundary from the content type, the part
/// whose headers name a `filename` (or else the first part), and its bytes
/// between the blank line after its headers and the CRLF before the next
/// boundary.
enum MultipartBody {
  /// The boundary parameter of a `multipart/form-data` content type.
  static func boundary(contentType: String) -> String? {
    let lower = contentType.lowercased()
    guard lower.hasPrefix("multipart/form-data") else { return nil }
    for parameter in contentType.split(separator: ";").dropFirst() {
      let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: " \t\"") }
      if pair.count == 2, pair[0].lowercased() == "boundary", !pair[1].isEmpty { return pair[1] }
    }
    return nil
  }

  /// The bytes of the uploaded file, or nil when the body holds no part.
  static func firstFile(_ body: [UInt8], boundary: String) -> [UInt8]? {
    let delimiter = Array("--\(boundary)".utf8)
    var starts: [Int] = []
    var i = 0
    while let found = find(delimiter, in: body, from: i) {
      starts.append(found)
      i = found + delimiter.count
    }
    guard starts.count >= 2 else { return nil }
    var fallback: [UInt8]?
    for (a, b) in zip(starts, starts.dropFirst()) {
      let partStart = a + delimiter.count + 2  // CRLF after the delimiter
      guard partStart < b, let headerEnd = find(Array("\r\n\r\n".utf8), in: body, from: partStart), headerEnd < b else { continue }
      let headers = String(decoding: body[partStart..<headerEnd], as: UTF8.self).lowercased()
      let contentEnd = b >= 2 && body[b - 2] == 13 && body[b - 1] == 10 ? b - 2 : b
      let content = Array(body[(headerEnd + 4)..<max(headerEnd + 4, contentEnd)])
      if headers.contains("filename=") { return content }
      if fallback == nil { fallback = content }
    }
    return fallback
  }

  private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
    guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
    var i = start
    while i <= haystack.count - needle.count {
      if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
      i += 1
    }
    return nil
  }
}

private extension Substring {
  func trimmingCharacters(in set: String) -> String {
    var s = self
    while let c = s.first, set.contains(c) { s.removeFirst() }
    while let c = s.last, set.contains(c) { s.removeLast() }
    return String(s)
  }
}
