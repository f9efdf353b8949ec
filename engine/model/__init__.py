"""The model: the RBM's maths (:mod:`.rbm`), the P(like) calibration (:mod:`.calibration`),
the sparse movie-to-movie part (:mod:`.itemitem`), batch inference (:mod:`.inference`), the
trained bundle (:mod:`.trained`) and its versioned files (:mod:`.storage`)."""
