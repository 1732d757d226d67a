import Hummingbird

/// Errors answered as `{"error": MESSAGE, "status": CODE}`.
///
/// HTTP errors keep their status (413 body too large, 503 busy, 404 no such
/// route); an error from a parser or a model (a corrupt image, invalid JSON,
/// a text over the limit) is the client's input, so 400; anything else 500.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
    do {
      return try await next(request, context)
    } catch let error as HTTPError {
      return ServiceResponse.error(error.body ?? "\(error.status.reasonPhrase)", status: error.status)
    } catch let error as any HTTPResponseError {
      return ServiceResponse.error("\(error)", status: error.status)
    } catch let error as ServiceInputError {
      return ServiceResponse.error(error.message, status: .badRequest)
    } catch {
      // Library errors (ImageError, TensorFileError, TextInputError,
      // DensityError) describe bad input in the request.
      return ServiceResponse.error(String(describing: error), status: .badRequest)
    }
  }
}

/// A request the service cannot use, with what was expected.
struct ServiceInputError: Error {
  let message: String
  init(_ message: String) { self.message = message }
}
