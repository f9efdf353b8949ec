"""The model: the RBM's maths (:mod:`.rbm`), the P(like) calibration (:mod:`.calibration`),
the lateral movie-to-movie weights (:mod:`.lateral`), the stars' neighbours
(:mod:`.neighbours`), batch inference (:mod:`.inference`), the trained bundle
(:mod:`.trained`) and its versioned files (:mod:`.storage`)."""
