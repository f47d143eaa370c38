// placeholder: module not written yet
