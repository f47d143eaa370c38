// placeholder: tests not written yet
