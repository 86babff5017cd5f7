package localstack

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// SNS Subscribe is idempotent on AWS: subscribing an endpoint that the topic
// already has with the same protocol and attributes answers the existing
// subscription's ARN, and with other attributes is an InvalidParameter error
// (SNS API reference, Subscribe). kumo makes a new subscription on every
// call, so a repeated Subscribe (an SDK retry whose first answer was lost, a
// second tool) left two subscriptions and every message arrived twice. The
// engine answers a repeat itself.

// subscriptionAttributeDefaults are the attributes Subscribe sets, with
// the value a subscription has when they are not given.
var subscriptionAttributeDefaults = map[string]string{
	"DeliveryPolicy": "", "FilterPolicy": "", "FilterPolicyScope": "", "RawMessageDelivery": "false",
	"RedrivePolicy": "", "ReplayPolicy": "", "SubscriptionRoleArn": "",
}

// subscribe answers a Subscribe of an endpoint the topic already has, or
// forwards it. Subscribes are serialized so that two at once cannot both
// find the endpoint missing.
func (fx *fidelity) subscribe(w http.ResponseWriter, req *http.Request, next http.Handler, form url.Values) {
	fx.subscribing.Lock()
	defer fx.subscribing.Unlock()
	arn, same, err := fx.existingSubscription(req, next, form)
	switch {
	case err != nil || arn == "":
		// Not found, or the look-up failed: kumo answers the call itself
		// (req's body is still unread).
		next.ServeHTTP(w, req)
	case !same:
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: Attributes Reason: Subscription already exists with different attributes</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, newUUID())
	default:
		type result struct {
			XMLName   xml.Name `xml:"SubscribeResponse"`
			NS        string   `xml:"xmlns,attr"`
			ARN       string   `xml:"SubscribeResult>SubscriptionArn"`
			RequestID string   `xml:"ResponseMetadata>RequestId"`
		}
		b, _ := xml.Marshal(result{NS: "http://sns.amazonaws.com/doc/2010-03-31/", ARN: arn, RequestID: newUUID()})
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	}
}

// existingSubscription finds the topic's subscription of form's protocol
// and endpoint, and whether its attributes are the ones form asks for.
func (fx *fidelity) existingSubscription(req *http.Request, next http.Handler, form url.Values) (arn string, same bool, err error) {
	topic, protocol, endpoint := form.Get("TopicArn"), form.Get("Protocol"), form.Get("Endpoint")
	token := ""
	for {
		in := url.Values{"Action": {"ListSubscriptionsByTopic"}, "Version": {"2010-03-31"}, "TopicArn": {topic}}
		if token != "" {
			in.Set("NextToken", token)
		}
		var out struct {
			Members []struct {
				ARN      string `xml:"SubscriptionArn"`
				Protocol string `xml:"Protocol"`
				Endpoint string `xml:"Endpoint"`
			} `xml:"ListSubscriptionsByTopicResult>Subscriptions>member"`
			NextToken string `xml:"ListSubscriptionsByTopicResult>NextToken"`
		}
		if err := snsForm(req, next, in, &out); err != nil {
			return "", false, err
		}
		for _, m := range out.Members {
			if m.Protocol == protocol && m.Endpoint == endpoint {
				have, err := subscriptionAttributes(req, next, m.ARN)
				if err != nil {
					return "", false, err
				}
				return m.ARN, sameSubscriptionAttributes(formAttributes(form), have), nil
			}
		}
		if out.NextToken == "" || out.NextToken == token {
			return "", false, nil
		}
		token = out.NextToken
	}
}

func subscriptionAttributes(req *http.Request, next http.Handler, arn string) (map[string]string, error) {
	var out struct {
		Entries []struct {
			Key   string `xml:"key"`
			Value string `xml:"value"`
		} `xml:"GetSubscriptionAttributesResult>Attributes>entry"`
	}
	in := url.Values{"Action": {"GetSubscriptionAttributes"}, "Version": {"2010-03-31"}, "SubscriptionArn": {arn}}
	if err := snsForm(req, next, in, &out); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, e := range out.Entries {
		m[e.Key] = e.Value
	}
	return m, nil
}

// snsForm sends an SNS query call through next (kumo) with req's headers
// and decodes its XML answer into out.
func snsForm(req *http.Request, next http.Handler, in url.Values, out any) error {
	r, err := http.NewRequestWithContext(req.Context(), http.MethodPost, req.URL.String(), strings.NewReader(in.Encode()))
	if err != nil {
		return err
	}
	r.Header = req.Header.Clone()
	r.Header.Del("Content-Length")
	r.Host = req.Host
	buf := &bufferedResponse{header: http.Header{}}
	next.ServeHTTP(buf, r)
	if buf.status != 0 && buf.status != http.StatusOK {
		return fmt.Errorf("%s answered %d", in.Get("Action"), buf.status)
	}
	return xml.Unmarshal(buf.body.Bytes(), out)
}

// formAttributes reads Subscribe's Attributes.entry.N.key/value pairs.
func formAttributes(form url.Values) map[string]string {
	keys, values := map[int]string{}, map[int]string{}
	for k, v := range form {
		rest, ok := strings.CutPrefix(k, "Attributes.entry.")
		if !ok || len(v) == 0 {
			continue
		}
		n, field, _ := strings.Cut(rest, ".")
		i, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		switch field {
		case "key":
			keys[i] = v[0]
		case "value":
			values[i] = v[0]
		}
	}
	out := map[string]string{}
	for i, k := range keys {
		out[k] = values[i]
	}
	return out
}

// sameSubscriptionAttributes compares what Subscribe asks for with what the
// subscription has, each settable attribute at its default when absent and
// JSON documents (policies) by content.
func sameSubscriptionAttributes(want, have map[string]string) bool {
	for k, def := range subscriptionAttributeDefaults {
		w, ok := want[k]
		if !ok {
			w = def
		}
		h, ok := have[k]
		if !ok {
			h = def
		}
		if k == "FilterPolicyScope" && (w == "" || h == "") {
			continue // AWS fills in MessageAttributes; kumo may not
		}
		if !sameAttributeValue(w, h) {
			return false
		}
	}
	return true
}

func sameAttributeValue(a, b string) bool {
	if a == b {
		return true
	}
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return strings.EqualFold(a, b) && (strings.EqualFold(a, "true") || strings.EqualFold(a, "false"))
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}
