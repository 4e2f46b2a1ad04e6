package authz

// SetCostHook makes c call fn after each subject's evaluation with the
// operations it used and why it stopped early (nil when it did not), for
// the tests of the evaluation budget. It must be called before c is used.
func SetCostHook(c *Client, fn func(used int64, stop error)) { c.costHook = fn }
