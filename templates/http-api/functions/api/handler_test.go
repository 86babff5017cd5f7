package main

import (
	"context"
	"encoding/base64"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// memStore is an in-memory Store; fail makes every call return that error.
type memStore struct {
	items map[string]Item
	fail  error
}

func (m *memStore) Put(_ context.Context, it Item) error {
	if m.fail != nil {
		return m.fail
	}
	m.items[it.ID] = it
	return nil
}

func (m *memStore) Get(_ context.Context, id string) (Item, bool, error) {
	it, ok := m.items[id]
	return it, ok, m.fail
}

func (m *memStore) List(_ context.Context, limit int) ([]Item, error) {
	if m.fail != nil {
		return nil, m.fail
	}
	var out []Item
	for _, it := range m.items {
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memStore) Delete(_ context.Context, id string) (bool, error) {
	if m.fail != nil {
		return false, m.fail
	}
	_, ok := m.items[id]
	delete(m.items, id)
	return ok, nil
}

var now = time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)

func TestHandle(t *testing.T) {
	existing := Item{ID: "a1", Name: "first", CreatedAt: "2026-11-01T00:00:00Z"}
	tests := []struct {
		name      string
		req       events.APIGatewayV2HTTPRequest
		storeErr  error
		want      events.APIGatewayV2HTTPResponse
		wantItems map[string]Item
	}{
		{
			name: "create",
			req:  events.APIGatewayV2HTTPRequest{RouteKey: "POST /items", Body: `{"name":"  lamp ","note":"desk"}`},
			want: events.APIGatewayV2HTTPResponse{StatusCode: 201,
				Headers: map[string]string{"Content-Type": "application/json", "Location": "/items/id-1"},
				Body:    `{"id":"id-1","name":"lamp","note":"desk","created_at":"2026-11-26T21:00:00Z"}`},
			wantItems: map[string]Item{"a1": existing, "id-1": {ID: "id-1", Name: "lamp", Note: "desk", CreatedAt: "2026-11-26T21:00:00Z"}},
		},
		{
			name: "create base64 body",
			req: events.APIGatewayV2HTTPRequest{RouteKey: "POST /items", IsBase64Encoded: true,
				Body: base64.StdEncoding.EncodeToString([]byte(`{"name":"chair"}`))},
			want: events.APIGatewayV2HTTPResponse{StatusCode: 201,
				Headers: map[string]string{"Content-Type": "application/json", "Location": "/items/id-1"},
				Body:    `{"id":"id-1","name":"chair","created_at":"2026-11-26T21:00:00Z"}`},
			wantItems: map[string]Item{"a1": existing, "id-1": {ID: "id-1", Name: "chair", CreatedAt: "2026-11-26T21:00:00Z"}},
		},
		{
			name:      "create without name",
			req:       events.APIGatewayV2HTTPRequest{RouteKey: "POST /items", Body: `{"note":"x"}`},
			want:      jsonResp(400, `{"error":"name is required"}`),
			wantItems: map[string]Item{"a1": existing},
		},
		{
			name:      "create with invalid JSON",
			req:       events.APIGatewayV2HTTPRequest{RouteKey: "POST /items", Body: `name=lamp`},
			want:      jsonResp(400, `{"error":"body must be a JSON object like {\"name\": \"…\"}"}`),
			wantItems: map[string]Item{"a1": existing},
		},
		{
			name:      "create when the store fails",
			req:       events.APIGatewayV2HTTPRequest{RouteKey: "POST /items", Body: `{"name":"lamp"}`},
			storeErr:  errors.New("throttled"),
			want:      jsonResp(500, `{"error":"internal error"}`),
			wantItems: map[string]Item{"a1": existing},
		},
		{
			name:      "get",
			req:       events.APIGatewayV2HTTPRequest{RouteKey: "GET /items/{id}", PathParameters: map[string]string{"id": "a1"}},
			want:      jsonResp(200, `{"id":"a1","name":"first","created_at":"2026-11-01T00:00:00Z"}`),
			wantItems: map[string]Item{"a1": existing},
		},
		{
			name:      "get missing",
			req:       events.APIGatewayV2HTTPRequest{RouteKey: "GET /items/{id}", PathParameters: map[string]string{"id": "zz"}},
			want:      jsonResp(404, `{"error":"no item with id zz"}`),
			wantItems: map[string]Item{"a1": existing},
		},
		{
			name:      "list",
			req:       events.APIGatewayV2HTTPRequest{RouteKey: "GET /items"},
			want:      jsonResp(200, `{"items":[{"id":"a1","name":"first","created_at":"2026-11-01T00:00:00Z"}]}`),
			wantItems: map[string]Item{"a1": existing},
		},
		{
			name:      "delete",
			req:       events.APIGatewayV2HTTPRequest{RouteKey: "DELETE /items/{id}", PathParameters: map[string]string{"id": "a1"}},
			want:      events.APIGatewayV2HTTPResponse{StatusCode: 204},
			wantItems: map[string]Item{},
		},
		{
			name:      "delete missing",
			req:       events.APIGatewayV2HTTPRequest{RouteKey: "DELETE /items/{id}", PathParameters: map[string]string{"id": "zz"}},
			want:      jsonResp(404, `{"error":"no item with id zz"}`),
			wantItems: map[string]Item{"a1": existing},
		},
		{
			name:      "unknown route",
			req:       events.APIGatewayV2HTTPRequest{RouteKey: "PUT /items/{id}"},
			want:      jsonResp(404, `{"error":"no route PUT /items/{id}"}`),
			wantItems: map[string]Item{"a1": existing},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &memStore{items: map[string]Item{"a1": existing}, fail: tt.storeErr}
			n := 0
			h := &Handler{Store: store, Now: func() time.Time { return now },
				NewID: func() string { n++; return "id-" + string(rune('0'+n)) }}
			got, err := h.Handle(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("response (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantItems, store.items); d != "" {
				t.Errorf("stored items (-want +got):\n%s", d)
			}
		})
	}
}

func jsonResp(status int, body string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: body}
}

func TestAttrsRoundTrip(t *testing.T) {
	for _, it := range []Item{
		{ID: "x", Name: "n", CreatedAt: "2026-01-01T00:00:00Z"},
		{ID: "y", Name: "n", Note: "with note", CreatedAt: "2026-01-01T00:00:00Z"},
	} {
		if d := cmp.Diff(it, fromAttrs(toAttrs(it))); d != "" {
			t.Errorf("round trip (-want +got):\n%s", d)
		}
	}
}
