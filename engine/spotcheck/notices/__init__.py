"""Official notices: content from the policy, announcements, template lookup, GB/T 9704 Word documents."""
