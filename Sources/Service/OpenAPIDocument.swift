/// The OpenAPI 3.1 description of the service, served at
/// `GET /v1/openapi.json` (a test checks that it parses and names every
/// route the router serves).
enum OpenAPIDocument {
  static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {
        "title": "AnomalyKit scoring service",
        "version": "1",
        "description": "Scores images against a normal-only reference bank, and texts or images against a cold-start detector that adapts online to unlabelled observations. Every error is {\"error\": message, \"status\": code}."
      },
      "paths": {
        "/v1/health": {
          "get": {"summary": "Liveness", "responses": {"200": {"description": "{\"status\": \"ok\"}"}}}
        },
        "/v1/info": {
          "get": {"summary": "The loaded bank and detector: path, size, threshold, metadata; for the detector also role (writer, or reader for --read-only replicas) and generation (writes of its file so far)", "responses": {"200": {"description": "{\"bank\": {…}, \"detector\": {…}}"}}}
        },
        "/": {
          "get": {"summary": "The web page: drop images, see heatmaps, score texts, add observations (no framework, works offline)", "responses": {"200": {"description": "text/html"}}}
        },
        "/v1/openapi.json": {
          "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1 JSON"}}}
        },
        "/v1/score/image": {
          "post": {
            "summary": "Score one image against the bank (or an image detector)",
            "parameters": [
              {"name": "heatmap", "in": "query", "required": false, "schema": {"type": "boolean"}, "description": "Add a PNG heatmap (patch banks), base64-encoded"},
              {"name": "format", "in": "query", "required": false, "schema": {"type": "string", "enum": ["json", "png"]}, "description": "png: answer with the heatmap overlay itself (image/png, colour bar and score drawn on; patch banks), the numbers in the X-AnomalyKit-Score, X-AnomalyKit-Anomalous and X-AnomalyKit-Threshold headers"}
            ],
            "requestBody": {"required": true, "content": {
              "image/png": {"schema": {"type": "string", "format": "binary"}},
              "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
              "multipart/form-data": {"schema": {"type": "object", "properties": {"image": {"type": "string", "format": "binary"}}}}
            }},
            "responses": {
              "200": {"description": "Bank: {\"score\": number, \"anomalous\": bool|null, \"threshold\": number|null, \"heatmap_png_base64\"?: string}, or with format=png the overlay as image/png. Detector: {\"results\": [{\"score\", \"anomalous\", \"class\"}]}", "content": {"application/json": {}, "image/png": {}}},
              "400": {"description": "Not a decodable PNG/JPEG, or over the pixel budget"},
              "404": {"description": "No image model loaded"},
              "413": {"description": "Body over the size limit"},
              "503": {"description": "Busy: too many requests waiting, or waited past the timeout"}
            }
          }
        },
        "/v1/score/text": {
          "post": {
            "summary": "Score one or more texts against the text detector",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"oneOf": [
              {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
              {"type": "object", "required": ["texts"], "properties": {"texts": {"type": "array", "items": {"type": "string"}, "minItems": 1}}}
            ]}}}},
            "responses": {
              "200": {"description": "{\"results\": [{\"text\", \"score\", \"anomalous\": bool|null, \"class\": nearest normal class}]}"},
              "400": {"description": "Invalid JSON, no texts, or a text over the length limit"},
              "404": {"description": "No text detector loaded"},
              "413": {"description": "Body over the size limit"},
              "503": {"description": "Busy"}
            }
          }
        },
        "/v1/observations": {
          "post": {
            "summary": "Unlabelled observations the detector adapts to (ColdFusion / predictive rule); persisted every N and on shutdown",
            "requestBody": {"required": true, "content": {
              "application/json": {"schema": {"type": "object", "required": ["texts"], "properties": {"texts": {"type": "array", "items": {"type": "string"}, "minItems": 1}}}},
              "image/png": {"schema": {"type": "string", "format": "binary"}},
              "image/jpeg": {"schema": {"type": "string", "format": "binary"}}
            }},
            "responses": {
              "200": {"description": "{\"accepted\": n, \"observations\": total, \"persisted\": bool, \"threshold\": number|null}"},
              "400": {"description": "Invalid body"},
              "404": {"description": "No detector loaded"},
              "409": {"description": "A read-only replica: send observations to the writer"},
              "413": {"description": "Body over the size limit"},
              "503": {"description": "Busy"}
            }
          }
        }
      }
    }
    """#
}
