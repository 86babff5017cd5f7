package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Item is what the API stores.
type Item struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Note      string `json:"note,omitempty"`
	CreatedAt string `json:"created_at"`
}

// Store is the part of DynamoDB the handler needs; tests use an in-memory one.
type Store interface {
	Put(ctx context.Context, it Item) error
	Get(ctx context.Context, id string) (Item, bool, error)
	List(ctx context.Context, limit int) ([]Item, error)
	// Delete removes the item and reports whether it existed.
	Delete(ctx context.Context, id string) (bool, error)
}

// Handler routes API Gateway HTTP API (payload 2.0) requests.
type Handler struct {
	Store Store
	NewID func() string
	Now   func() time.Time
}

const (
	maxNameLen = 200
	maxNoteLen = 2000
	listLimit  = 100
)

// Handle serves one request. Client mistakes are 4xx responses with a JSON
// error; store failures are a 500 whose detail goes to the log, not the caller.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	switch req.RouteKey {
	case "POST /items":
		return h.create(ctx, req)
	case "GET /items":
		items, err := h.Store.List(ctx, listLimit)
		if err != nil {
			return serverError("list", err), nil
		}
		if items == nil {
			items = []Item{}
		}
		return reply(http.StatusOK, map[string]any{"items": items}), nil
	case "GET /items/{id}":
		it, ok, err := h.Store.Get(ctx, req.PathParameters["id"])
		if err != nil {
			return serverError("get", err), nil
		}
		if !ok {
			return errorReply(http.StatusNotFound, "no item with id "+req.PathParameters["id"]), nil
		}
		return reply(http.StatusOK, it), nil
	case "DELETE /items/{id}":
		ok, err := h.Store.Delete(ctx, req.PathParameters["id"])
		if err != nil {
			return serverError("delete", err), nil
		}
		if !ok {
			return errorReply(http.StatusNotFound, "no item with id "+req.PathParameters["id"]), nil
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNoContent}, nil
	}
	return errorReply(http.StatusNotFound, "no route "+req.RouteKey), nil
}

func (h *Handler) create(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return errorReply(http.StatusBadRequest, "body is not valid base64"), nil
		}
		body = b
	}
	var in struct {
		Name string `json:"name"`
		Note string `json:"note"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "body must be a JSON object like {\"name\": \"…\"}"), nil
	}
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		return errorReply(http.StatusBadRequest, "name is required"), nil
	case utf8.RuneCountInString(in.Name) > maxNameLen:
		return errorReply(http.StatusBadRequest, "name is longer than 200 characters"), nil
	case utf8.RuneCountInString(in.Note) > maxNoteLen:
		return errorReply(http.StatusBadRequest, "note is longer than 2000 characters"), nil
	}
	it := Item{ID: h.NewID(), Name: in.Name, Note: in.Note, CreatedAt: h.Now().UTC().Format(time.RFC3339)}
	if err := h.Store.Put(ctx, it); err != nil {
		return serverError("put", err), nil
	}
	resp := reply(http.StatusCreated, it)
	resp.Headers["Location"] = "/items/" + it.ID
	return resp, nil
}

func reply(status int, v any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		return serverError("encode", err)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}

func errorReply(status int, msg string) events.APIGatewayV2HTTPResponse {
	return reply(status, map[string]string{"error": msg})
}

func serverError(op string, err error) events.APIGatewayV2HTTPResponse {
	log.Printf("%s: %v", op, err)
	b, _ := json.Marshal(map[string]string{"error": "internal error"})
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusInternalServerError,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}
