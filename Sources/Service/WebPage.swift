import Hummingbird

/// The page `GET /` serves: one HTML file, its script and its style sheet,
/// embedded in the binary at build time (`Web/`), with no framework and no
/// CDN, so it works on a machine without internet.
///
/// Every response carries a strict Content-Security-Policy: scripts,
/// styles and requests from this origin only, no inline script, and
/// images from this origin or from `blob:`/`data:` URLs the page makes of
/// the user's own uploads and the server's heatmaps.
enum WebPage {
  static let contentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
    + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

  /// The embedded files by route, with their media types.
  static let files: [String: (bytes: [UInt8], type: String)] = [
    "/": (PackageResources.index_html, "text/html; charset=utf-8"),
    "/app.js": (PackageResources.app_js, "text/javascript; charset=utf-8"),
    "/app.css": (PackageResources.app_css, "text/css; charset=utf-8"),
  ]

  static func response(_ path: String) -> Response {
    guard let file = files[path] else { return ServiceResponse.error("no such page: \(path)", status: .notFound) }
    var headers = HTTPFields()
    headers[.contentType] = file.type
    headers[.contentSecurityPolicy] = contentSecurityPolicy
    headers[.xContentTypeOptions] = "nosniff"
    headers[.cacheControl] = "no-cache"
    return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.bytes)))
  }
}
