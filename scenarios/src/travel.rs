//! The four reference scenarios of the travel assistant, at the shapes of the reference tool's
//! table (spans, encoded size, tokens). Payload bytes are the declared content; encoded as OTLP,
//! with ids, attribute keys and message structure, each trace weighs what the table says
//! (`tests/encoded_sizes.rs` checks it within 10%). Input tokens grow along each trace as the
//! conversation history does in a real agent.

scenario_runtime::scenario! {
    name: simple_query,
    description: "A direct question answered after one knowledge-base lookup",
    agent: travel_assistant,
    expect: { spans: 5, depth: 2, bytes: 28kb..32kb, tokens: 4500..5500, llm_calls: 2, tool_calls: 2 },

    llm(understand_question, input: 1500, output: 100, latency: 300..700ms);
    tool(search_knowledge_base, 7kb, latency: 80..200ms);
    tool(get_destination_facts, 6kb, latency: 60..150ms);
    llm(answer, input: 2900, output: 350, latency: 800..1600ms);
}

scenario_runtime::scenario! {
    name: single_service_search,
    description: "A flight search with fare details gathered in parallel",
    agent: travel_assistant,
    expect: { spans: 12, depth: 2, bytes: 245kb..260kb, tokens: 16500..19500, llm_calls: 4, tool_calls: 7 },

    llm(plan_search, input: 1800, output: 120, latency: 400..900ms);
    tool(search_flights, 80kb, latency: 600..1500ms, fail: 1%);
    llm(review_results, input: 3000, output: 180, latency: 600..1200ms);
    parallel {
        tool(get_fare_rules, 14kb, latency: 150..400ms);
        tool(get_seat_availability, 18kb, latency: 200..500ms);
        tool(get_baggage_policy, 6kb, latency: 100..250ms);
    }
    tool(search_nearby_airports, 38kb, latency: 400..900ms);
    llm(compare_options, input: 4800, output: 250, latency: 900..1800ms);
    tool(get_price_history, 24kb, latency: 200..600ms);
    tool(convert_currency, 2kb, latency: 50..120ms);
    llm(final_answer, input: 7200, output: 650, latency: 1500..3000ms);
}

scenario_runtime::scenario! {
    name: delegated_booking,
    description: "A hotel booked through a trip planner, a hotel specialist and a rate checker",
    agent: travel_assistant,
    expect: { spans: 25, depth: 5, bytes: 430kb..445kb, tokens: 38000..42000, llm_calls: 9, tool_calls: 12 },

    llm(primary_plan, input: 1400, output: 160, latency: 400..900ms);
    delegate trip_planner {
        llm(plan_trip, input: 2200, output: 180, latency: 500..1000ms);
        tool(get_traveler_profile, 6kb, latency: 50..150ms);
        tool(check_travel_policy, 5kb, latency: 80..200ms);
        delegate hotel_specialist {
            llm(hotel_plan, input: 3000, output: 150, latency: 500..1100ms, model: "claude-sonnet-4-5", provider: anthropic);
            tool(search_hotels, 120kb, latency: 700..1600ms, fail: 2%);
            parallel {
                tool(fetch_reviews, 60kb, latency: 300..800ms);
                tool(check_availability, 10kb, latency: 150..400ms);
                tool(get_hotel_photos, 12kb, latency: 100..300ms);
            }
            llm(shortlist_hotels, input: 4200, output: 220, latency: 800..1500ms, model: "claude-sonnet-4-5", provider: anthropic);
            delegate rate_checker {
                llm(compare_rates, input: 3000, output: 120, latency: 400..800ms, model: "gpt-4o-mini");
                tool(get_negotiated_rates, 24kb, latency: 200..500ms);
                tool(check_cancellation_policy, 6kb, latency: 100..250ms);
            }
            llm(choose_hotel, input: 5000, output: 200, latency: 800..1600ms, model: "claude-sonnet-4-5", provider: anthropic);
            tool(book_hotel, 8kb, latency: 400..1200ms, fail: 1%);
        }
        llm(summarize_booking, input: 6000, output: 260, latency: 900..1800ms);
        tool(create_itinerary, 20kb, latency: 200..500ms);
        tool(send_confirmation_email, 4kb, latency: 150..400ms);
    }
    llm(primary_review, input: 6500, output: 300, latency: 900..1800ms);
    tool(save_trip_to_profile, 3kb, latency: 50..150ms);
    llm(primary_confirm, input: 7200, output: 350, latency: 1000..2000ms);
}

scenario_runtime::scenario! {
    name: multi_service_complex,
    description: "A full trip: flight, hotel and car specialists in parallel, activities, budget and documents",
    agent: travel_assistant,
    expect: { spans: 80, depth: 7, bytes: 2150kb..2220kb, tokens: 175000..195000, llm_calls: 25, tool_calls: 43 },

    llm(primary_plan, input: 2000, output: 250, latency: 500..1000ms);
    tool(get_user_profile, 8kb, latency: 50..150ms);
    delegate trip_planner {
        llm(plan_itinerary, input: 3200, output: 300, latency: 800..1500ms);
        tool(check_travel_policy, 6kb, latency: 80..200ms);
        tool(get_calendar, 6kb, latency: 80..200ms);
        tool(get_loyalty_accounts, 6kb, latency: 60..150ms);
        parallel {
            delegate flight_specialist {
                llm(flight_plan, input: 3600, output: 200, latency: 500..1000ms);
                tool(search_flights, 280kb, latency: 800..2000ms, fail: 2%);
                tool(search_alternate_airports, 140kb, latency: 600..1500ms);
                tool(get_flight_status_history, 24kb, latency: 200..500ms);
                llm(shortlist_flights, input: 6000, output: 250, latency: 900..1800ms);
                delegate fare_checker {
                    llm(check_fares, input: 4000, output: 150, latency: 400..900ms, model: "gpt-4o-mini");
                    parallel {
                        tool(get_fare_rules, 32kb, latency: 150..400ms);
                        tool(get_fare_history, 40kb, latency: 200..500ms);
                    }
                    delegate seat_advisor {
                        llm(pick_seats, input: 3000, output: 120, latency: 400..800ms, model: "gpt-4o-mini");
                        tool(get_seat_map, 48kb, latency: 200..500ms);
                        delegate upgrade_checker {
                            llm(check_upgrades, input: 2400, output: 100, latency: 300..700ms, model: "gpt-4o-mini");
                            tool(get_loyalty_status, 4kb, latency: 50..150ms);
                            tool(get_upgrade_offers, 12kb, latency: 150..400ms);
                        }
                        tool(reserve_seat, 4kb, latency: 200..600ms, fail: 1%);
                    }
                    llm(fare_summary, input: 6000, output: 200, latency: 600..1200ms, model: "gpt-4o-mini");
                }
                llm(choose_flight, input: 8500, output: 250, latency: 900..1800ms);
                tool(book_flight, 12kb, latency: 600..1500ms, fail: 1%);
            }
            delegate hotel_specialist {
                llm(hotel_plan, input: 3600, output: 200, latency: 500..1100ms, model: "claude-sonnet-4-5", provider: anthropic);
                tool(search_hotels, 220kb, latency: 700..1600ms, fail: 2%);
                parallel {
                    tool(fetch_reviews, 120kb, latency: 300..800ms);
                    tool(check_availability, 16kb, latency: 150..400ms);
                    tool(get_hotel_photos, 20kb, latency: 100..300ms);
                    tool(get_hotel_amenities, 12kb, latency: 100..300ms);
                }
                llm(shortlist_hotels, input: 6400, output: 250, latency: 800..1500ms, model: "claude-sonnet-4-5", provider: anthropic);
                delegate rate_checker {
                    llm(compare_rates, input: 3400, output: 120, latency: 400..800ms, model: "gpt-4o-mini");
                    tool(get_negotiated_rates, 32kb, latency: 200..500ms);
                    tool(check_cancellation_policy, 8kb, latency: 100..250ms);
                }
                llm(choose_hotel, input: 8700, output: 250, latency: 800..1600ms, model: "claude-sonnet-4-5", provider: anthropic);
                tool(book_hotel, 10kb, latency: 400..1200ms, fail: 1%);
            }
            delegate car_specialist {
                llm(car_plan, input: 3000, output: 150, latency: 400..900ms);
                tool(search_rental_cars, 64kb, latency: 500..1200ms);
                tool(get_pickup_locations, 8kb, latency: 100..300ms);
                tool(get_insurance_options, 12kb, latency: 150..350ms);
                llm(choose_car, input: 4800, output: 200, latency: 600..1200ms);
                tool(book_car, 8kb, latency: 400..1000ms, fail: 1%);
            }
        }
        llm(reconcile_bookings, input: 11000, output: 350, latency: 1200..2400ms);
        delegate activities_planner {
            llm(plan_activities, input: 5000, output: 250, latency: 700..1400ms);
            parallel {
                tool(search_restaurants, 48kb, latency: 300..800ms);
                tool(search_attractions, 80kb, latency: 300..800ms);
                tool(get_weather_forecast, 8kb, latency: 100..300ms);
                tool(search_events, 32kb, latency: 300..700ms);
                tool(get_transit_options, 20kb, latency: 200..500ms);
            }
            llm(build_day_plans, input: 11000, output: 600, latency: 1500..3000ms);
            tool(make_restaurant_reservation, 6kb, latency: 300..800ms, fail: 2%);
            tool(buy_attraction_tickets, 8kb, latency: 400..1000ms);
        }
        delegate budget_analyst {
            llm(analyze_costs, input: 9500, output: 300, latency: 900..1800ms);
            tool(convert_currency, 2kb, latency: 50..120ms);
            tool(get_expense_policy, 6kb, latency: 80..200ms);
            llm(flag_exceptions, input: 6000, output: 200, latency: 600..1200ms);
        }
        llm(compose_itinerary, input: 15000, output: 900, latency: 2000..4000ms);
        tool(create_itinerary_document, 40kb, latency: 300..800ms);
        parallel {
            tool(send_confirmation_email, 6kb, latency: 150..400ms);
            tool(add_calendar_events, 4kb, latency: 100..300ms);
            tool(notify_travel_manager, 3kb, latency: 100..300ms);
        }
    }
    llm(primary_review, input: 17000, output: 500, latency: 1500..3000ms);
    tool(save_trip_to_profile, 6kb, latency: 50..150ms);
    delegate concierge {
        llm(check_visa_requirements, input: 6000, output: 200, latency: 700..1400ms);
        tool(get_visa_rules, 24kb, latency: 200..600ms);
        tool(get_travel_advisories, 16kb, latency: 200..500ms);
        llm(prepare_documents_checklist, input: 8500, output: 300, latency: 900..1800ms);
        tool(generate_packing_list, 6kb, latency: 100..300ms);
    }
    llm(primary_confirm, input: 20000, output: 800, latency: 2000..4000ms);
}
