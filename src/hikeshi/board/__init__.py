"""The supervisor board (SVボード): live feed and announcements to the floor (全体連絡)."""
