#pragma once
// The Stream* RPCs of CRI v1 are their List* twins answered in pages on a server stream (for
// nodes whose lists outgrow one gRPC message): the same items, at most kStreamPageSize a message.
#include <grpcpp/support/sync_stream.h>

#include <google/protobuf/repeated_ptr_field.h>

namespace berth::cri {

inline constexpr int kStreamPageSize = 100;

// Moves `items` into messages of `Response`, `page(response)` naming the repeated field to fill.
template <class Item, class Response, class PageField>
grpc::Status writePages(google::protobuf::RepeatedPtrField<Item>& items,
                        grpc::ServerWriter<Response>* writer, PageField page) {
  for (int start = 0; start < items.size(); start += kStreamPageSize) {
    Response response;
    auto* into = page(response);
    for (int i = start; i < std::min(items.size(), start + kStreamPageSize); ++i) {
      into->Add(std::move(*items.Mutable(i)));
    }
    if (!writer->Write(response)) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
    }
  }
  return grpc::Status::OK;
}

}  // namespace berth::cri
