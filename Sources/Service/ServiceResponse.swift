import Hummingbird
import TensorFiles

/// JSON responses, serialised with the toolkit's own strict JSON writer.
enum ServiceResponse {
  static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized + "\n")))
  }

  static func error(_ message: String, status: HTTPResponse.Status) -> Response {
    json(.object([("error", .string(message)), ("status", .number(Double(status.code)))]), status: status)
  }
}
