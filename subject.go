package authz

import (
	"context"
	"strconv"
)

// SubjectType is the kind of a subject.
type SubjectType string

// Subject types.
const (
	SubjectUser    SubjectType = "user"
	SubjectAgent   SubjectType = "agent"
	SubjectService SubjectType = "service"
	SubjectSystem  SubjectType = "system"
	SubjectAPIKey  SubjectType = "api_key"
)

var subjectTypes = []SubjectType{SubjectUser, SubjectAgent, SubjectService, SubjectSystem, SubjectAPIKey}

// Subject is someone or something that acts: a user, an AI agent, a service.
// (SubjectType, ExternalID) need not be unique.
type Subject struct {
	ID          string         `json:"id"`
	SubjectType SubjectType    `json:"subjectType"`
	ExternalID  string         `json:"externalId"`
	DisplayName string         `json:"displayName,omitempty"`
	Meta        map[string]any `json:"meta,omitempty"`
}

// SubjectInput creates a Subject. SubjectType and ExternalID are required.
// Memberships creates memberships of the new subject, with their role
// assignments.
type SubjectInput struct {
	ID          string                   `json:"id,omitempty"`
	SubjectType SubjectType              `json:"subjectType"`
	ExternalID  string                   `json:"externalId"`
	DisplayName string                   `json:"displayName,omitempty"`
	Meta        map[string]any           `json:"meta,omitempty"`
	Memberships []SubjectMembershipInput `json:"memberships,omitempty"`
}

// SubjectMembershipInput is a membership created inline with a subject: the
// subject joins the scope with the given roles.
type SubjectMembershipInput struct {
	ID      string   `json:"id,omitempty"`
	ScopeID string   `json:"scopeId"`
	RoleIDs []string `json:"roleIds,omitempty"`
}

// SubjectPatch changes a Subject; nil fields are left unchanged. Meta
// replaces the whole meta object.
type SubjectPatch struct {
	DisplayName *string         `json:"displayName,omitempty"`
	Meta        *map[string]any `json:"meta,omitempty"`
}

// SubjectFilter selects subjects by (SubjectType, ExternalID): set both to
// look a subject up by its external id; both empty lists every subject.
type SubjectFilter struct {
	SubjectType SubjectType `json:"subjectType,omitempty"`
	ExternalID  string      `json:"externalId,omitempty"`
	Page
}

func (s *Subject) kind() *kindSpec        { return subjectKind }
func (s *Subject) recordID() string       { return s.ID }
func (s *Subject) uniques() []uniqueEntry { return nil }
func (s *Subject) indexes() []indexEntry {
	return []indexEntry{idx(ixSubjectExternal, string(s.SubjectType), s.ExternalID)}
}

func buildSubject(b *builder, it *item, in *SubjectInput) {
	s := &Subject{SubjectType: in.SubjectType, ExternalID: in.ExternalID, DisplayName: in.DisplayName, Meta: in.Meta}
	s.ID = b.newID(it, subjectKind, in.ID)
	it.rec = s
	enum(b, it, "subjectType", in.SubjectType, false, subjectTypes...)
	b.required(it, "externalId", in.ExternalID)
	for i := range in.Memberships {
		m := &in.Memberships[i]
		buildMembership(b, b.child(it, "memberships["+strconv.Itoa(i)+"]"), m.ID, s.ID, m.ScopeID, m.RoleIDs, "", "scopeId")
	}
}

func sizeSubject(in *SubjectInput) int {
	n := 1
	for _, m := range in.Memberships {
		n += 1 + len(m.RoleIDs)
	}
	return n
}

// CreateSubjects creates subjects (with their inline memberships) in one
// atomic batch.
func (c *Client) CreateSubjects(ctx context.Context, in []SubjectInput) ([]Subject, error) {
	return createMany(ctx, c, "create subjects", &Batch{Subjects: in}, func(r *BatchResult) []Subject { return r.Subjects })
}

// CreateSubject creates one subject.
func (c *Client) CreateSubject(ctx context.Context, in SubjectInput) (Subject, error) {
	return createOne(ctx, "create subject", in, c.CreateSubjects)
}

// GetSubject returns the subject id.
func (c *Client) GetSubject(ctx context.Context, id string) (Subject, error) {
	return getOne[Subject](ctx, c, subjectKind, id)
}

// ListSubjects lists subjects in id order.
func (c *Client) ListSubjects(ctx context.Context, f SubjectFilter) ([]Subject, error) {
	keep := func(s *Subject) bool {
		return (f.SubjectType == "" || s.SubjectType == f.SubjectType) && (f.ExternalID == "" || s.ExternalID == f.ExternalID)
	}
	switch {
	case f.SubjectType != "" && f.ExternalID != "":
		return list(ctx, c, subjectKind, byIndex(ixSubjectExternal, string(f.SubjectType), f.ExternalID), keep, f.Page)
	case f.SubjectType != "":
		return list(ctx, c, subjectKind, byIndex(ixSubjectExternal, string(f.SubjectType)), keep, f.Page)
	}
	return list(ctx, c, subjectKind, listPlan{}, keep, f.Page)
}

// UpdateSubject changes the display name or meta of a subject.
func (c *Client) UpdateSubject(ctx context.Context, id string, p SubjectPatch) (Subject, error) {
	return update(ctx, c, subjectKind, id, func(_ *view, s *Subject) error {
		if p.DisplayName != nil {
			s.DisplayName = *p.DisplayName
		}
		if p.Meta != nil {
			s.Meta = *p.Meta
		}
		return nil
	})
}

// DeleteSubject deletes a subject with its memberships, their role
// assignments and the tag assignments on it.
func (c *Client) DeleteSubject(ctx context.Context, id string) error {
	return c.deleteOne(ctx, subjectKind, id)
}
